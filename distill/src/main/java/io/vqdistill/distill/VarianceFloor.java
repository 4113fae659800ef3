package io.vqdistill.distill;

import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.model.Decoder;
import io.vqdistill.api.model.ImageShape;
import io.vqdistill.api.model.LatentShape;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A Gaussian decoder whose leaf standard deviations are raised to at least {@code minStd}: the
 * log-variance is clamped below at 2 ln(minStd). The VQ-VAE's decoder is trained to be sharp at an
 * image's own grid (standard deviations down to 1e-3), which makes a mixture of a few decoded grids
 * pay thousands of bits for a pixel that none of its components draws; a floor chosen on held-out
 * images trades a little of that sharpness for coverage. Without a floor (the default), mixtures use
 * the decoder's leaves unchanged. The wrapped decoder stays owned by the caller.
 */
public final class VarianceFloor implements Decoder {
    private final Decoder decoder;
    private final double minStd;
    private final double minLogVar;

    private VarianceFloor(Decoder decoder, double minStd) {
        this.decoder = decoder;
        this.minStd = minStd;
        this.minLogVar = 2 * Math.log(minStd);
    }

    /**
     * {@code decoder} with standard deviations of at least {@code minStd}.
     *
     * @throws InvalidArgumentException when the decoder's leaves are not Gaussian, or {@code minStd}
     *                                  is not in (0, 1]
     */
    public static VarianceFloor of(Decoder decoder, double minStd) {
        Objects.requireNonNull(decoder, "decoder");
        if (!decoder.leafFamily().equals("gaussian")) {
            throw new InvalidArgumentException("a variance floor needs gaussian leaves; this decoder has "
                    + decoder.leafFamily() + " leaves");
        }
        if (!(minStd > 0 && minStd <= 1)) {
            throw new InvalidArgumentException("the minimum standard deviation must be in (0, 1], found " + minStd);
        }
        return new VarianceFloor(decoder, minStd);
    }

    /** The floor on the standard deviation. */
    public double minStd() {
        return minStd;
    }

    @Override
    public LatentShape latentShape() {
        return decoder.latentShape();
    }

    @Override
    public ImageShape imageShape() {
        return decoder.imageShape();
    }

    @Override
    public String leafFamily() {
        return decoder.leafFamily();
    }

    @Override
    public Map<String, Tensor> decode(Tensor codes) {
        Map<String, Tensor> raw = decoder.decode(codes);
        Map<String, Tensor> out = new LinkedHashMap<>(raw);
        Tensor logVar = raw.get("log_var");
        out.put("log_var", logVar.clamp(minLogVar, Math.max(minLogVar, 0)));
        logVar.close();
        return out;
    }

    /** Nothing to release: the wrapped decoder belongs to the caller. */
    @Override
    public void close() {
    }

    @Override
    public String toString() {
        return "variance floor: std >= " + minStd;
    }
}
