package io.vqdistill.backend.tensorflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.vqdistill.api.Backend;
import io.vqdistill.api.model.ImageShape;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.formats.SafeTensors;
import io.vqdistill.models.checkpoint.Checkpoint;
import io.vqdistill.models.nn.ReferenceModels;
import io.vqdistill.models.train.CmDecoder;
import io.vqdistill.models.train.CmRule;
import io.vqdistill.models.train.CmSpec;
import io.vqdistill.models.train.DecoderHead;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The graph of a convolutional continuous-mixture decoder ({@link TfCmNet}) against the float64
 * reference ({@link ReferenceModels.Cm}) on the same seeded weights: the mixture's log-likelihoods
 * in inference mode (BatchNorm by the running statistics), the training loss of both rules with
 * BatchNorm on the statistics of the step's points, and the running statistics that step leaves.
 */
class TfCmNetTest {
    private static final int M = 8;
    private static final int D = 3;
    private static final int B = 4;

    @TempDir
    Path tmp;

    private static float[] points() {
        SplittableRandom r = new SplittableRandom(5);
        float[] z = new float[M * D];
        for (int i = 0; i < z.length; i++) {
            z[i] = (float) (2 * r.nextDouble() - 1);
        }
        return z;
    }

    @Test
    void scoresAndTrainingLossEqualTheFloat64ReferenceInBothBatchNormModes() {
        float[] z = points();
        try (Backend b = new TfBackendProvider().create(new BackendOptions("cpu", 1))) {
            TfBackend tf = (TfBackend) b;
            for (DecoderHead head : DecoderHead.values()) {
                CmRule rule = head == DecoderHead.GAUSSIAN ? CmRule.LSE : CmRule.TOP1;
                CmSpec spec = new CmSpec(new ImageShape(1, 8, 12), D, new CmDecoder.Conv(3), head, M, rule);
                ReferenceModels.Cm ref = new ReferenceModels.Cm(spec, 41 + head.ordinal());
                Path dir = tmp.resolve(head.leafFamily());
                ref.write(dir);
                SafeTensors weights = Checkpoint.weights(dir);
                int s = spec.variables();
                SplittableRandom r = new SplittableRandom(6);
                float[] pixels = new float[B * s];
                int[] levels = new int[B * s];
                double[] x = new double[B * s];
                for (int i = 0; i < x.length; i++) {
                    levels[i] = r.nextInt(256);
                    pixels[i] = (float) ((levels[i] + r.nextDouble()) / 256);
                    x[i] = head == DecoderHead.GAUSSIAN ? pixels[i] : levels[i];
                }
                float[] feedPixels = head == DecoderHead.GAUSSIAN ? pixels : null;
                int[] feedLevels = head == DecoderHead.GAUSSIAN ? null : levels;

                TfCmNet net = new TfCmNet(spec, 1, tf.sessionConfig(), null);
                try {
                    net.start(null, 0);
                    net.loadBest(weights);
                    double[] expected = ReferenceModels.Cm.logLikelihoods(ref.scores(x, B, z, false));
                    double[] actual = net.logLikelihoods(feedPixels, feedLevels, B, z);
                    for (int i = 0; i < B; i++) {
                        assertThat(actual[i]).as("%s log-likelihood %d", head, i)
                                .isCloseTo(expected[i], within(1e-4 * Math.abs(expected[i])));
                    }

                    double[][] trainScores = ref.scores(x, B, z, true);
                    double loss = 0;
                    for (double[] row : trainScores) {
                        double top = Double.NEGATIVE_INFINITY;
                        for (double v : row) {
                            top = Math.max(top, v);
                        }
                        loss -= rule == CmRule.LSE ? ReferenceModels.Cm.logLikelihoods(new double[][] {row})[0]
                                : top - Math.log(M);
                    }
                    loss /= B;
                    double stepLoss = net.trainStep(feedPixels, feedLevels, B, z, 0);
                    assertThat(stepLoss).as("%s training loss", head).isCloseTo(loss, within(1e-4 * Math.abs(loss)));

                    // the step moved the running statistics a tenth of the way to those of its points
                    double[][] stats = ref.projectionStatistics(z);
                    double count = (double) M * 2 * 3;
                    double[] mean0 = weights.get("decoder.fc_bn.running_mean").toDoubles();
                    double[] var0 = weights.get("decoder.fc_bn.running_var").toDoubles();
                    SafeTensors.Entry mean = entry(net, "decoder.fc_bn.running_mean");
                    SafeTensors.Entry var = entry(net, "decoder.fc_bn.running_var");
                    for (int c = 0; c < 3; c++) {
                        assertThat(mean.toFloats()[c]).isCloseTo((float) (0.9 * mean0[c] + 0.1 * stats[0][c]),
                                within(1e-5f));
                        assertThat(var.toFloats()[c]).isCloseTo((float) (0.9 * var0[c]
                                + 0.1 * stats[1][c] * count / (count - 1)), within(1e-5f));
                    }
                    assertThat(entry(net, "decoder.up.0.bn.num_batches_tracked").buffer().getLong(0)).isEqualTo(8);
                } finally {
                    net.release();
                }
            }
        }
    }

    private static SafeTensors.Entry entry(TfCmNet net, String name) {
        return net.weights().stream().filter(e -> e.name().equals(name)).findFirst().orElseThrow();
    }
}
