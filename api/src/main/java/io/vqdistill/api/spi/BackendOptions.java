package io.vqdistill.api.spi;

import io.vqdistill.api.InvalidArgumentException;
import java.util.Locale;

/**
 * What the user asked of the backend to be created.
 *
 * @param device  {@code auto} (a GPU when the engine reports one, else the CPU), {@code cpu},
 *                {@code gpu} or {@code gpu:N}
 * @param threads intra-op CPU threads; 0 lets the engine choose (the core count)
 */
public record BackendOptions(String device, int threads) {
    /** Validates the arguments. */
    public BackendOptions {
        String d = device.toLowerCase(Locale.ROOT);
        if (!d.equals("auto") && !d.equals("cpu") && !d.equals("gpu") && !d.matches("gpu:\\d+")) {
            throw new InvalidArgumentException("device must be auto, cpu, gpu or gpu:N, found '" + device + "'");
        }
        if (threads < 0) {
            throw new InvalidArgumentException("threads must be >= 0, found " + threads);
        }
        device = d;
    }

    /** Automatic device choice, engine-default threads. */
    public static BackendOptions defaults() {
        return new BackendOptions("auto", 0);
    }

    /** True when the user left the device to the engine. */
    public boolean autoDevice() {
        return device.equals("auto");
    }
}
