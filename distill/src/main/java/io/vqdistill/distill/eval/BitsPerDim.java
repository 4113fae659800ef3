package io.vqdistill.distill.eval;

import io.vqdistill.api.InvalidArgumentException;
import java.util.Objects;

/**
 * Bits per dimension: mean(-log2 p(x)) / S + the encoding's offset, for S pixels per image. On
 * MNIST (S = 784) with dequantised pixels this is mean(-log2 p(x))/784 + 8; with categorical
 * levels it is mean(-log2 p(x))/784.
 */
public final class BitsPerDim {
    private BitsPerDim() {
    }

    /**
     * @param logLikelihoods log p(x) in nats for each image, at least one, none NaN
     * @param pixels         S, the number of pixels per image, >= 1
     * @param encoding       how the pixels were presented to the model
     */
    public static double of(double[] logLikelihoods, int pixels, PixelEncoding encoding) {
        Objects.requireNonNull(logLikelihoods, "logLikelihoods");
        Objects.requireNonNull(encoding, "encoding");
        if (logLikelihoods.length == 0) {
            throw new InvalidArgumentException("bits per dimension of no images: logLikelihoods is empty");
        }
        if (pixels < 1) {
            throw new InvalidArgumentException("pixels must be >= 1, found " + pixels);
        }
        double sum = 0;
        for (int i = 0; i < logLikelihoods.length; i++) {
            if (Double.isNaN(logLikelihoods[i])) {
                throw new InvalidArgumentException("log-likelihood of image " + i + " is NaN");
            }
            sum += logLikelihoods[i];
        }
        double meanNats = -sum / logLikelihoods.length;
        return meanNats / Math.log(2) / pixels + encoding.offsetBits();
    }

    /**
     * Bits per dimension from a mean log-likelihood in nats per image.
     *
     * @param meanLogLikelihood mean log p(x) in nats, not NaN
     * @param pixels            S, the number of pixels per image, >= 1
     * @param encoding          how the pixels were presented to the model
     */
    public static double ofMean(double meanLogLikelihood, int pixels, PixelEncoding encoding) {
        return of(new double[] {meanLogLikelihood}, pixels, encoding);
    }
}
