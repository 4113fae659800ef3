package io.vqdistill.models.train;

import io.vqdistill.api.InvalidArgumentException;
import java.util.Locale;

/** The output distribution of a VQ-VAE decoder, one leaf per pixel. */
public enum DecoderHead {
    /**
     * A Gaussian per pixel over continuous values in [0, 1]: 2 output channels, the mean through a
     * sigmoid and the natural-log variance clamped to [{@link #LOG_VAR_MIN}, {@link #LOG_VAR_MAX}],
     * i.e. a standard deviation in [1e-3, 1]. Trained on pixels dequantised to (p + u)/256.
     */
    GAUSSIAN("gaussian", 2),
    /** A categorical per pixel over the 256 levels: 256 logits per pixel. Trained on integer levels. */
    CATEGORICAL("categorical", 256);

    /** The smallest log-variance, 2 ln(1e-3): standard deviation 1e-3. */
    public static final double LOG_VAR_MIN = 2 * Math.log(1e-3);
    /** The largest log-variance, 0: standard deviation 1. */
    public static final double LOG_VAR_MAX = 0;
    /** Levels of a categorical pixel. */
    public static final int LEVELS = 256;

    private final String leafFamily;
    private final int outputsPerPixel;

    DecoderHead(String leafFamily, int outputsPerPixel) {
        this.leafFamily = leafFamily;
        this.outputsPerPixel = outputsPerPixel;
    }

    /** The leaf family name the decoder reports and circuits use: {@code gaussian} or {@code categorical}. */
    public String leafFamily() {
        return leafFamily;
    }

    /** Output channels per pixel channel: 2 (mean, log-variance) or 256 (logits). */
    public int outputsPerPixel() {
        return outputsPerPixel;
    }

    /** The head named {@code name} ({@code gaussian} or {@code categorical}, any case). */
    public static DecoderHead parse(String name) {
        for (DecoderHead h : values()) {
            if (h.leafFamily.equals(name.toLowerCase(Locale.ROOT))) {
                return h;
            }
        }
        throw new InvalidArgumentException("decoder head must be gaussian or categorical, found '" + name + "'");
    }
}
