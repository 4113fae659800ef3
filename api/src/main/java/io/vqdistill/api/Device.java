package io.vqdistill.api;

import java.util.Locale;
import java.util.Objects;

/**
 * A compute device of a backend: the CPU or one GPU.
 *
 * @param type  the kind of device
 * @param index the device ordinal; 0 for the CPU
 */
public record Device(Type type, int index) {
    /** The kinds of device. */
    public enum Type { CPU, GPU }

    /** The host CPU. */
    public static final Device CPU = new Device(Type.CPU, 0);

    /** Validates the ordinal. */
    public Device {
        Objects.requireNonNull(type, "type");
        if (index < 0) {
            throw new InvalidArgumentException("device index must be >= 0, found " + index);
        }
    }

    /** GPU number {@code index}. */
    public static Device gpu(int index) {
        return new Device(Type.GPU, index);
    }

    /** Parses {@code cpu}, {@code gpu} (= gpu:0) or {@code gpu:N}. */
    public static Device parse(String text) {
        String s = text.trim().toLowerCase(Locale.ROOT);
        if (s.equals("cpu")) {
            return CPU;
        }
        if (s.equals("gpu")) {
            return gpu(0);
        }
        if (s.startsWith("gpu:")) {
            try {
                return gpu(Integer.parseInt(s.substring(4)));
            } catch (NumberFormatException e) {
                throw new InvalidArgumentException("device must be cpu, gpu or gpu:N, found '" + text + "'", e);
            }
        }
        throw new InvalidArgumentException("device must be cpu, gpu or gpu:N, found '" + text + "'");
    }

    @Override
    public String toString() {
        return type == Type.CPU ? "cpu" : "gpu:" + index;
    }
}
