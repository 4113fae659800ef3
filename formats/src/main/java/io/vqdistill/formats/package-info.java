/**
 * File formats shared by every module: safetensors for tensors (checkpoints, circuits) and atomic
 * writes.
 */
package io.vqdistill.formats;
