package io.vqdistill.models.train;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/** How the runs that train a mixture's decoder ({@link CmRunner}, {@link DecoderTuningRunner}) measure an image set. */
final class MixtureScores {
    private MixtureScores() {
    }

    /**
     * The mean negative log-likelihood per image, nats, of images 0 .. {@code size} - 1, handed to
     * {@code logLikelihoods} in consecutive batches of at most {@code batch} indices.
     */
    static double meanNll(int size, int batch, Function<int[], double[]> logLikelihoods) {
        double sum = 0;
        for (int from = 0; from < size; from += batch) {
            int[] idx = new int[Math.min(batch, size - from)];
            for (int i = 0; i < idx.length; i++) {
                idx[i] = from + i;
            }
            for (double ll : logLikelihoods.apply(idx)) {
                sum -= ll;
            }
        }
        return sum / size;
    }

    /** The validation metrics of a mean NLL and its bits per dimension: {@code val_loss}, {@code val_bpd}. */
    static Map<String, Double> validation(double nll, double bpd) {
        Map<String, Double> m = new LinkedHashMap<>();
        m.put(EpochRunner.VAL_LOSS, nll);
        m.put("val_bpd", bpd);
        return m;
    }

    /** The test metrics of a mean NLL and its bits per dimension: {@code test_nll}, {@code test_bpd}. */
    static Map<String, Double> test(double nll, double bpd) {
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("test_nll", nll);
        m.put("test_bpd", bpd);
        return m;
    }
}
