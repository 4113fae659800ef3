/**
 * Data sets without engine code: a pure-Java reader of IDX files (raw or gzip-compressed), labelled
 * image sets of unsigned-byte pixels with the two pixel views the method uses (continuous values
 * dequantised to (p + u)/256, and the integer levels 0..255), and MNIST with the paper's seeded
 * 50,000 / 10,000 train/validation split and its 10,000 test images.
 */
package io.vqdistill.models.data;
