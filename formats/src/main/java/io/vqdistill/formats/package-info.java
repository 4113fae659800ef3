/**
 * File formats shared by every module: safetensors for tensors (checkpoints, circuits), validated
 * strictly on reading; typed JSON access; atomic writes of one file ({@link
 * io.vqdistill.formats.AtomicFiles}) and of a whole folder of files under a writer's lock ({@link
 * io.vqdistill.formats.AtomicFolder}).
 */
package io.vqdistill.formats;
