package io.vqdistill.models.data;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

/** Writes small IDX files for tests: header bytes built by hand, raw or gzip-compressed. */
final class IdxFiles {
    private IdxFiles() {
    }

    /** The bytes of an unsigned-byte IDX file with {@code dims} and {@code data}. */
    static byte[] bytes(int[] dims, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + data.length);
        b.put((byte) 0).put((byte) 0).put((byte) 0x08).put((byte) dims.length);
        for (int d : dims) {
            b.putInt(d);
        }
        b.put(data);
        return b.array();
    }

    static Path write(Path file, byte[] content) throws IOException {
        Files.write(file, content);
        return file;
    }

    static Path writeGzip(Path file, byte[] content) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (OutputStream gz = new GZIPOutputStream(bytes)) {
            gz.write(content);
        }
        Files.write(file, bytes.toByteArray());
        return file;
    }

    /**
     * Writes the four MNIST files into {@code dir}: {@code train} and {@code test} 28x28 images whose
     * pixels encode their index, with labels index % 10.
     */
    static void writeMnist(Path dir, int train, int test, boolean gzip) throws IOException {
        writeSet(dir, Mnist.TRAIN_IMAGES, Mnist.TRAIN_LABELS, train, gzip);
        writeSet(dir, Mnist.TEST_IMAGES, Mnist.TEST_LABELS, test, gzip);
    }

    private static void writeSet(Path dir, String images, String labels, int n, boolean gzip) throws IOException {
        byte[] px = new byte[n * 784];
        byte[] lb = new byte[n];
        for (int i = 0; i < n; i++) {
            for (int p = 0; p < 784; p++) {
                px[i * 784 + p] = (byte) ((i + p) % 256);
            }
            lb[i] = (byte) (i % 10);
        }
        byte[] imageFile = bytes(new int[] {n, 28, 28}, px);
        byte[] labelFile = bytes(new int[] {n}, lb);
        if (gzip) {
            writeGzip(dir.resolve(images + ".gz"), imageFile);
            writeGzip(dir.resolve(labels + ".gz"), labelFile);
        } else {
            write(dir.resolve(images), imageFile);
            write(dir.resolve(labels), labelFile);
        }
    }
}
