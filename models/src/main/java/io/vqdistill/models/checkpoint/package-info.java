/**
 * The portable network checkpoint: a folder with {@code config.json} (kind, architecture, format
 * version, provenance, metrics) and {@code weights.safetensors} in PyTorch layout (NCHW
 * activations, OIHW convolution weights, (Cin, Cout, kH, kW) transposed-convolution weights), so
 * any backend, and PyTorch itself, can load it. Both files are written atomically, weights first,
 * so a folder with a {@code config.json} always has the weights it describes.
 */
package io.vqdistill.models.checkpoint;
