package io.vqdistill.models.nn;

import io.vqdistill.api.model.ImageShape;
import io.vqdistill.api.model.LatentShape;
import io.vqdistill.formats.SafeTensors;
import io.vqdistill.models.checkpoint.Checkpoint;
import io.vqdistill.models.checkpoint.Provenance;
import io.vqdistill.models.train.CmDecoder;
import io.vqdistill.models.train.CmSpec;
import io.vqdistill.models.train.DecoderHead;
import io.vqdistill.models.train.PriorSpec;
import io.vqdistill.models.train.VqVaeSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Double-precision reference implementations of the checkpoint architectures (the VQ-VAE with both
 * heads, the gated PixelCNN and the convolutional decoder of a continuous mixture), written from
 * their specification with plain loops and {@link ReferenceConv}, and the seeded tiny checkpoints
 * the model contract tests load. The weights
 * are drawn in float32 (as stored) and used here in double, so every backend is compared with the
 * exact function of the same file. The PixelCNN's causal windows are built with explicit one-sided
 * zero padding, independently of how the implementations under test do it.
 */
public final class ReferenceModels {
    private ReferenceModels() {
    }

    /** A tiny VQ-VAE for 28x28 images with a 4x4 grid: three stages, one residual block, K = 6, D = 3. */
    public static VqVaeSpec tinyVqVae(DecoderHead head) {
        return new VqVaeSpec(ImageShape.MNIST, new LatentShape(4, 4, 6), 3, List.of(4, 5, 6), 1, head, 1.0);
    }

    /** A tiny prior over non-square 3x4 grids with K = 5, three classes, three layers, first kernel 5. */
    public static PriorSpec tinyPrior() {
        return new PriorSpec(new LatentShape(3, 4, 5), 3, 3, 4, 6, 5, 3);
    }

    /** A dense array with its shape. */
    public record Array(double[] v, long[] s) {
        int dim(int i) {
            return (int) s[i];
        }
    }

    /** Named float32 weights drawn from one seed, kept in double. */
    static final class Weights {
        private final SplittableRandom rng;
        private final Map<String, Array> values = new LinkedHashMap<>();

        Weights(long seed) {
            this.rng = new SplittableRandom(seed);
        }

        Array uniform(String name, double lo, double hi, long... shape) {
            int n = 1;
            for (long d : shape) {
                n *= (int) d;
            }
            double[] v = new double[n];
            for (int i = 0; i < n; i++) {
                v[i] = (float) (lo + (hi - lo) * rng.nextDouble());
            }
            Array a = new Array(v, shape.clone());
            values.put(name, a);
            return a;
        }

        Array get(String name) {
            return values.get(name);
        }

        List<SafeTensors.Entry> entries() {
            List<SafeTensors.Entry> out = new ArrayList<>();
            values.forEach((name, a) -> {
                if (name.endsWith(".num_batches_tracked")) {
                    out.add(SafeTensors.Entry.of(name, new long[] {(long) a.v()[0]}));
                } else {
                    float[] f = new float[a.v().length];
                    for (int i = 0; i < f.length; i++) {
                        f[i] = (float) a.v()[i];
                    }
                    out.add(SafeTensors.Entry.of(name, f, a.s()));
                }
            });
            return out;
        }
    }

    /** Reference convolution {@code name} [out, in, kH, kW] with bias, drawn as PyTorch initialises it. */
    private static Array[] conv(Weights w, String name, int in, int out, int kH, int kW) {
        double bound = 1 / Math.sqrt((double) in * kH * kW);
        return new Array[] {w.uniform(name + ".weight", -bound, bound, out, in, kH, kW),
            w.uniform(name + ".bias", -bound, bound, out)};
    }

    private static Array[] bn(Weights w, String name, int c) {
        Array[] p = {w.uniform(name + ".weight", 0.5, 1.5, c), w.uniform(name + ".bias", -0.2, 0.2, c),
            w.uniform(name + ".running_mean", -0.3, 0.3, c), w.uniform(name + ".running_var", 0.2, 1.5, c)};
        w.values.put(name + ".num_batches_tracked", new Array(new double[] {7}, new long[0]));
        return p;
    }

    static Array applyConv(Array x, Array[] conv, int stride, int padH, int padW) {
        return new Array(ReferenceConv.conv2d(x.v(), x.s(), conv[0].v(), conv[0].s(), conv[1].v(), stride, padH, padW),
                ReferenceConv.conv2dShape(x.s(), conv[0].s(), stride, padH, padW));
    }

    static Array applyBn(Array x, Array[] bn) {
        int b = x.dim(0);
        int c = x.dim(1);
        int hw = x.dim(2) * x.dim(3);
        double[] y = new double[x.v().length];
        for (int n = 0; n < b; n++) {
            for (int ch = 0; ch < c; ch++) {
                double scale = bn[0].v()[ch] / Math.sqrt(bn[3].v()[ch] + 1e-5);
                for (int i = 0; i < hw; i++) {
                    int at = (n * c + ch) * hw + i;
                    y[at] = (x.v()[at] - bn[2].v()[ch]) * scale + bn[1].v()[ch];
                }
            }
        }
        return new Array(y, x.s());
    }

    static Array act(Activation a, Array x) {
        return new Array(ReferenceConv.activation(a, x.v()), x.s());
    }

    static Array add(Array x, Array y) {
        double[] z = new double[x.v().length];
        for (int i = 0; i < z.length; i++) {
            z[i] = x.v()[i] + y.v()[i];
        }
        return new Array(z, x.s());
    }

    private static Array[][] residual(Weights w, String name, int c) {
        return new Array[][] {conv(w, name + ".conv1", c, c, 3, 3), bn(w, name + ".bn1", c),
            conv(w, name + ".conv2", c, c, 1, 1), bn(w, name + ".bn2", c)};
    }

    private static Array applyResidual(Array x, Array[][] r, boolean batchStatistics) {
        Array h = applyBn(applyConv(act(Activation.RELU, x), r[0], 1, 1, 1), r[1], batchStatistics);
        return add(x, applyBn(applyConv(act(Activation.RELU, h), r[2], 1, 0, 0), r[3], batchStatistics));
    }

    private static Array applyResidual(Array x, Array[][] r) {
        return applyResidual(x, r, false);
    }

    /** A transposed convolution [in, out, k, k] drawn as PyTorch initialises it. */
    private static Array[] convTranspose(Weights w, String name, int in, int out, int k) {
        double bound = 1 / Math.sqrt((double) out * k * k);
        return new Array[] {w.uniform(name + ".weight", -bound, bound, in, out, k, k),
            w.uniform(name + ".bias", -bound, bound, out)};
    }

    private static Array applyConvTranspose(Array x, Array[] t, int stride, int pad) {
        return new Array(ReferenceConv.convTranspose2d(x.v(), x.s(), t[0].v(), t[0].s(), t[1].v(), stride, pad, 0),
                ReferenceConv.convTranspose2dShape(x.s(), t[0].s(), stride, pad, 0));
    }

    /**
     * BatchNorm of [B, C, H, W]: by the running statistics, or with {@code batchStatistics} by the
     * mean and biased variance of each channel over the batch and positions (training mode).
     */
    static Array applyBn(Array x, Array[] bn, boolean batchStatistics) {
        if (!batchStatistics) {
            return applyBn(x, bn);
        }
        double[][] stats = channelStatistics(x);
        return applyBn(x, new Array[] {bn[0], bn[1], new Array(stats[0], bn[2].s()), new Array(stats[1], bn[3].s())});
    }

    /** The mean and the biased variance of each channel of [B, C, H, W] over the batch and positions. */
    static double[][] channelStatistics(Array x) {
        int b = x.dim(0);
        int c = x.dim(1);
        int hw = x.dim(2) * x.dim(3);
        double[] mean = new double[c];
        double[] var = new double[c];
        for (int ch = 0; ch < c; ch++) {
            double sum = 0;
            for (int n = 0; n < b; n++) {
                for (int i = 0; i < hw; i++) {
                    sum += x.v()[(n * c + ch) * hw + i];
                }
            }
            mean[ch] = sum / (b * hw);
            double sq = 0;
            for (int n = 0; n < b; n++) {
                for (int i = 0; i < hw; i++) {
                    double d = x.v()[(n * c + ch) * hw + i] - mean[ch];
                    sq += d * d;
                }
            }
            var[ch] = sq / (b * hw);
        }
        return new double[][] {mean, var};
    }

    /**
     * The convolutional decoder of a continuous mixture ({@link CmDecoder.Conv}): weights drawn
     * from a seed (BatchNorm statistics included), its leaves at latent points with BatchNorm by
     * the running statistics or by those of the points, and the finite mixture's log-likelihoods.
     */
    public static final class Cm {
        private final CmSpec spec;
        private final Weights w;
        private final Array[] fc;
        private final Array[] fcBn;
        private final Array[][] res;
        private final Array[] up;
        private final Array[] upBn;
        private final Array[] out;

        /** Draws every weight of {@code spec}, whose decoder is convolutional, from {@code seed}. */
        public Cm(CmSpec spec, long seed) {
            this.spec = spec;
            this.w = new Weights(seed);
            int c = ((CmDecoder.Conv) spec.decoder()).channels();
            int cells = c * gridHeight() * gridWidth();
            double bound = 1 / Math.sqrt(spec.latentDim());
            fc = new Array[] {w.uniform("decoder.fc.weight", -bound, bound, cells, spec.latentDim()),
                w.uniform("decoder.fc.bias", -bound, bound, cells)};
            fcBn = bn(w, "decoder.fc_bn", c);
            res = residual(w, "decoder.res.0", c);
            up = convTranspose(w, "decoder.up.0.conv", c, c, 4);
            upBn = bn(w, "decoder.up.0.bn", c);
            out = convTranspose(w, "decoder.up.1.conv", c, spec.image().channels() * spec.head().outputsPerPixel(), 4);
        }

        private int gridHeight() {
            return spec.image().height() / 4;
        }

        private int gridWidth() {
            return spec.image().width() / 4;
        }

        /** Writes the checkpoint folder {@code dir}. */
        public void write(Path dir) {
            new Checkpoint(Checkpoint.KIND_CM, spec.toJson(),
                    Provenance.now(1, "synthetic", "reference", "reference", 0, 0, Map.of()), Map.of())
                    .write(dir, w.entries());
        }

        /**
         * The decoder output [M, maps, H, W] of the points {@code z} [M, d]; with
         * {@code batchStatistics} BatchNorm normalises by the statistics of these points.
         */
        public Array output(float[] z, boolean batchStatistics) {
            Array h = act(Activation.RELU, applyBn(projection(z), fcBn, batchStatistics));
            h = act(Activation.RELU, applyResidual(h, res, batchStatistics));
            h = act(Activation.RELU, applyBn(applyConvTranspose(h, up, 2, 1), upBn, batchStatistics));
            return applyConvTranspose(h, out, 2, 1);
        }

        /** The mean and biased variance of each channel of {@link #projection} over the points and positions. */
        public double[][] projectionStatistics(float[] z) {
            return channelStatistics(projection(z));
        }

        /** The linear layer's output [M, C, H/4, W/4] of the points {@code z} [M, d]. */
        public Array projection(float[] z) {
            int d = spec.latentDim();
            int m = z.length / d;
            int c = ((CmDecoder.Conv) spec.decoder()).channels();
            int cells = c * gridHeight() * gridWidth();
            double[] h0 = new double[m * cells];
            for (int j = 0; j < m; j++) {
                for (int o = 0; o < cells; o++) {
                    double acc = fc[1].v()[o];
                    for (int i = 0; i < d; i++) {
                        acc += fc[0].v()[o * d + i] * z[j * d + i];
                    }
                    h0[j * cells + o] = acc;
                }
            }
            return new Array(h0, new long[] {m, c, gridHeight(), gridWidth()});
        }

        /**
         * log p(x_b | z_m) [B][M] of the images {@code x} [B, S] (Gaussian head: pixels in [0, 1];
         * categorical head: levels 0..255) at the points {@code z}, in float64.
         */
        public double[][] scores(double[] x, int b, float[] z, boolean batchStatistics) {
            Array o = output(z, batchStatistics);
            int m = o.dim(0);
            int ch = spec.image().channels();
            int s = spec.variables();
            double[][] scores = new double[b][m];
            for (int j = 0; j < m; j++) {
                for (int n = 0; n < b; n++) {
                    double sum = 0;
                    for (int i = 0; i < s; i++) {
                        int c = i / (s / ch);
                        int p = i % (s / ch);
                        int hw = s / ch;
                        if (spec.head() == DecoderHead.GAUSSIAN) {
                            double mu = 1 / (1 + Math.exp(-o.v()[(j * 2 * ch + c) * hw + p]));
                            double logVar = Math.min(Math.max(o.v()[(j * 2 * ch + ch + c) * hw + p],
                                    DecoderHead.LOG_VAR_MIN), DecoderHead.LOG_VAR_MAX);
                            double diff = x[n * s + i] - mu;
                            sum -= 0.5 * (Math.log(2 * Math.PI) + logVar + diff * diff / Math.exp(logVar));
                        } else {
                            int maps = ch * DecoderHead.LEVELS;
                            double top = Double.NEGATIVE_INFINITY;
                            for (int l = 0; l < DecoderHead.LEVELS; l++) {
                                top = Math.max(top, o.v()[(j * maps + c * DecoderHead.LEVELS + l) * hw + p]);
                            }
                            double acc = 0;
                            for (int l = 0; l < DecoderHead.LEVELS; l++) {
                                acc += Math.exp(o.v()[(j * maps + c * DecoderHead.LEVELS + l) * hw + p] - top);
                            }
                            int level = (int) x[n * s + i];
                            sum += o.v()[(j * maps + c * DecoderHead.LEVELS + level) * hw + p] - top - Math.log(acc);
                        }
                    }
                    scores[n][j] = sum;
                }
            }
            return scores;
        }

        /** log (1/M) sum_m p(x_b | z_m) of each image, from {@link #scores}. */
        public static double[] logLikelihoods(double[][] scores) {
            double[] out = new double[scores.length];
            for (int n = 0; n < scores.length; n++) {
                double top = Double.NEGATIVE_INFINITY;
                for (double v : scores[n]) {
                    top = Math.max(top, v);
                }
                double acc = 0;
                for (double v : scores[n]) {
                    acc += Math.exp(v - top);
                }
                out[n] = top + Math.log(acc / scores[n].length);
            }
            return out;
        }

        /**
         * The leaves of the points {@code z} by the running statistics: {mean [M, S], clamped
         * log-variance [M, S]} for a Gaussian head, {logits [M, S * 256]} (pixel-major) for a
         * categorical one.
         */
        public double[][] leaves(float[] z) {
            Array o = output(z, false);
            int m = o.dim(0);
            int ch = spec.image().channels();
            int s = spec.variables();
            int hw = s / ch;
            if (spec.head() == DecoderHead.GAUSSIAN) {
                double[] mean = new double[m * s];
                double[] logVar = new double[m * s];
                for (int j = 0; j < m; j++) {
                    for (int i = 0; i < s; i++) {
                        mean[j * s + i] = 1 / (1 + Math.exp(-o.v()[j * 2 * s + i]));
                        logVar[j * s + i] = Math.min(Math.max(o.v()[j * 2 * s + s + i], DecoderHead.LOG_VAR_MIN),
                                DecoderHead.LOG_VAR_MAX);
                    }
                }
                return new double[][] {mean, logVar};
            }
            double[] logits = new double[m * s * DecoderHead.LEVELS];
            for (int j = 0; j < m; j++) {
                for (int i = 0; i < s; i++) {
                    for (int l = 0; l < DecoderHead.LEVELS; l++) {
                        logits[(j * s + i) * DecoderHead.LEVELS + l] =
                                o.v()[(j * ch * DecoderHead.LEVELS + (i / hw) * DecoderHead.LEVELS + l) * hw + i % hw];
                    }
                }
            }
            return new double[][] {logits};
        }
    }

    /** The VQ-VAE reference: weights, encoder, quantiser and decoder. */
    public static final class VqVae {
        private final VqVaeSpec spec;
        private final Weights w;
        private final List<Array[]> down = new ArrayList<>();
        private final List<Array[]> downBn = new ArrayList<>();
        private final List<Array[][]> encRes = new ArrayList<>();
        private final Array[] encProj;
        private final Array codebook;
        private final Array[] decProj;
        private final List<Array[][]> decRes = new ArrayList<>();
        private final List<Array[]> up = new ArrayList<>();
        private final List<Array[]> upBn = new ArrayList<>();
        private final Array[] head;

        /** Draws every weight of {@code spec} from {@code seed}. */
        public VqVae(VqVaeSpec spec, long seed) {
            this.spec = spec;
            this.w = new Weights(seed);
            int in = spec.image().channels();
            for (int i = 0; i < spec.stages(); i++) {
                int c = spec.channels().get(i);
                int k = spec.stageKernel(i);
                down.add(conv(w, "encoder.down." + i + ".conv", in, c, k, k));
                downBn.add(bn(w, "encoder.down." + i + ".bn", c));
                in = c;
            }
            int lc = in;
            for (int r = 0; r < spec.residualBlocks(); r++) {
                encRes.add(residual(w, "encoder.res." + r, lc));
            }
            int d = spec.embeddingDim();
            encProj = conv(w, "encoder.proj", lc, d, 1, 1);
            codebook = w.uniform("codebook.weight", -1, 1, spec.latent().codebookSize(), d);
            decProj = conv(w, "decoder.proj", d, lc, 3, 3);
            for (int r = 0; r < spec.residualBlocks(); r++) {
                decRes.add(residual(w, "decoder.res." + r, lc));
            }
            boolean gaussian = spec.head() == DecoderHead.GAUSSIAN;
            int imageChannels = spec.image().channels();
            for (int j = 0; j < spec.stages(); j++) {
                int s = spec.stages() - 1 - j;
                boolean last = s == 0;
                int cin = spec.channels().get(s);
                int cout = !last ? spec.channels().get(s - 1)
                        : gaussian ? 2 * imageChannels : spec.channels().get(0);
                int k = spec.stageKernel(s);
                double bound = 1 / Math.sqrt((double) cout * k * k);
                up.add(new Array[] {w.uniform("decoder.up." + j + ".conv.weight", -bound, bound, cin, cout, k, k),
                    w.uniform("decoder.up." + j + ".conv.bias", -bound, bound, cout)});
                if (!last || !gaussian) {
                    upBn.add(bn(w, "decoder.up." + j + ".bn", cout));
                }
            }
            head = gaussian ? null : conv(w, "decoder.head", spec.channels().get(0),
                    imageChannels * DecoderHead.LEVELS, 1, 1);
        }

        /**
         * Replaces the codebook by K encoder outputs of {@code images} chosen far apart (farthest-point
         * selection over every grid position), as a data-dependent initialisation does, so that the
         * images use several clearly distinct codes.
         */
        public void codebookFromEncoderOutputs(double[] images, int b) {
            Array ze = encoderOutput(images, b);
            int d = ze.dim(1);
            int hw = ze.dim(2) * ze.dim(3);
            int k = spec.latent().codebookSize();
            double[] nearest = new double[b * hw];
            java.util.Arrays.fill(nearest, Double.POSITIVE_INFINITY);
            int pick = 0;
            for (int j = 0; j < k; j++) {
                int n = pick / hw;
                int p = pick % hw;
                for (int i = 0; i < d; i++) {
                    codebook.v()[j * d + i] = (float) ze.v()[(n * d + i) * hw + p];
                }
                int farthest = 0;
                for (int q = 0; q < b * hw; q++) {
                    double dist = 0;
                    for (int i = 0; i < d; i++) {
                        double diff = ze.v()[((q / hw) * d + i) * hw + q % hw] - codebook.v()[j * d + i];
                        dist += diff * diff;
                    }
                    nearest[q] = Math.min(nearest[q], dist);
                    if (nearest[q] > nearest[farthest]) {
                        farthest = q;
                    }
                }
                pick = farthest;
            }
        }

        /** Writes the checkpoint folder {@code dir}. */
        public void write(Path dir) {
            new Checkpoint(Checkpoint.KIND_VQVAE, spec.toJson(),
                    Provenance.now(1, "synthetic", "reference", "reference", 0, 0, Map.of()), Map.of())
                    .write(dir, w.entries());
        }

        /** The encoder output z_e [B, D, h, w] of images [B, C, H, W]. */
        public Array encoderOutput(double[] images, int b) {
            ImageShape s = spec.image();
            Array h = new Array(images, new long[] {b, s.channels(), s.height(), s.width()});
            for (int i = 0; i < down.size(); i++) {
                h = act(Activation.RELU, applyBn(applyConv(h, down.get(i), 2, 1, 1), downBn.get(i)));
            }
            for (Array[][] r : encRes) {
                h = applyResidual(h, r);
            }
            return applyConv(h, encProj, 1, 0, 0);
        }

        /**
         * Nearest codes [B * h * w] of z_e, and in {@code margin[0]} the smallest gap between the
         * best and second-best squared distance over all positions.
         */
        public long[] codes(Array ze, double[] margin) {
            int b = ze.dim(0);
            int d = ze.dim(1);
            int hw = ze.dim(2) * ze.dim(3);
            int k = spec.latent().codebookSize();
            long[] out = new long[b * hw];
            margin[0] = Double.POSITIVE_INFINITY;
            for (int n = 0; n < b; n++) {
                for (int p = 0; p < hw; p++) {
                    double best = Double.POSITIVE_INFINITY;
                    double second = Double.POSITIVE_INFINITY;
                    for (int j = 0; j < k; j++) {
                        double dist = 0;
                        for (int i = 0; i < d; i++) {
                            double diff = ze.v()[(n * d + i) * hw + p] - codebook.v()[j * d + i];
                            dist += diff * diff;
                        }
                        if (dist < best) {
                            second = best;
                            best = dist;
                            out[n * hw + p] = j;
                        } else if (dist < second) {
                            second = dist;
                        }
                    }
                    margin[0] = Math.min(margin[0], second - best);
                }
            }
            return out;
        }

        /** The decoder's raw head output [B, 2C or 256 C, H, W] for codes [B * h * w]. */
        public Array decoderOutput(long[] codes, int b) {
            int d = spec.embeddingDim();
            int lh = spec.latent().height();
            int lw = spec.latent().width();
            double[] zq = new double[b * d * lh * lw];
            for (int n = 0; n < b; n++) {
                for (int p = 0; p < lh * lw; p++) {
                    for (int i = 0; i < d; i++) {
                        zq[(n * d + i) * lh * lw + p] = codebook.v()[(int) codes[n * lh * lw + p] * d + i];
                    }
                }
            }
            Array h = applyConv(new Array(zq, new long[] {b, d, lh, lw}), decProj, 1, 1, 1);
            for (Array[][] r : decRes) {
                h = applyResidual(h, r);
            }
            h = act(Activation.RELU, h);
            for (int j = 0; j < up.size(); j++) {
                Array[] t = up.get(j);
                h = new Array(ReferenceConv.convTranspose2d(h.v(), h.s(), t[0].v(), t[0].s(), t[1].v(), 2, 1, 0),
                        ReferenceConv.convTranspose2dShape(h.s(), t[0].s(), 2, 1, 0));
                if (j < upBn.size()) {
                    h = act(Activation.RELU, applyBn(h, upBn.get(j)));
                }
            }
            return head == null ? h : applyConv(h, head, 1, 0, 0);
        }

        /** Gaussian head: {mean [B, S], unclamped log-variance [B, S]} of a decoder output. */
        public double[][] gaussian(Array out) {
            int b = out.dim(0);
            int c = spec.image().channels();
            int hw = out.dim(2) * out.dim(3);
            double[] mean = new double[b * c * hw];
            double[] logVar = new double[b * c * hw];
            for (int n = 0; n < b; n++) {
                for (int i = 0; i < c * hw; i++) {
                    mean[n * c * hw + i] = ReferenceConv.activation(Activation.SIGMOID, out.v()[n * 2 * c * hw + i]);
                    logVar[n * c * hw + i] = out.v()[n * 2 * c * hw + c * hw + i];
                }
            }
            return new double[][] {mean, logVar};
        }

        /** Categorical head: log-probabilities [B, S, 256] of a decoder output. */
        public double[] categorical(Array out) {
            int b = out.dim(0);
            int c = spec.image().channels();
            int hw = out.dim(2) * out.dim(3);
            int v = DecoderHead.LEVELS;
            double[] logp = new double[b * c * hw * v];
            for (int n = 0; n < b; n++) {
                for (int ch = 0; ch < c; ch++) {
                    for (int p = 0; p < hw; p++) {
                        double max = Double.NEGATIVE_INFINITY;
                        for (int l = 0; l < v; l++) {
                            max = Math.max(max, out.v()[((n * c + ch) * v + l) * hw + p]);
                        }
                        double sum = 0;
                        for (int l = 0; l < v; l++) {
                            sum += Math.exp(out.v()[((n * c + ch) * v + l) * hw + p] - max);
                        }
                        for (int l = 0; l < v; l++) {
                            logp[((n * c + ch) * hw + p) * v + l] = out.v()[((n * c + ch) * v + l) * hw + p] - max
                                    - Math.log(sum);
                        }
                    }
                }
            }
            return logp;
        }
    }

    /** The gated PixelCNN reference: weights and log-probabilities. */
    public static final class PixelCnn {
        private final PriorSpec spec;
        private final Weights w;
        private final double[] classLogPrior;

        /** Draws every weight of {@code spec} from {@code seed}, and a non-uniform class prior. */
        public PixelCnn(PriorSpec spec, long seed) {
            this.spec = spec;
            this.w = new Weights(seed);
            int c = spec.channels();
            int k = spec.latent().codebookSize();
            w.uniform("embedding.weight", -1.5, 1.5, k, c);
            for (int l = 0; l < spec.layers(); l++) {
                int kernel = l == 0 ? spec.firstKernel() : spec.kernel();
                int pad = kernel / 2;
                String name = "layers." + l;
                w.uniform(name + ".class_embedding.weight", -1, 1, spec.numClasses(), 2L * c);
                conv(w, name + ".vert", c, 2 * c, pad + 1, kernel);
                conv(w, name + ".vert_to_horiz", 2 * c, 2 * c, 1, 1);
                conv(w, name + ".horiz", c, 2 * c, 1, pad + 1);
                conv(w, name + ".horiz_resid", c, c, 1, 1);
            }
            conv(w, "head.0", c, spec.headHidden(), 1, 1);
            Array[] h2 = conv(w, "head.2", spec.headHidden(), k, 1, 1);
            // logits spread enough that the log-probabilities differ clearly between codes
            for (int i = 0; i < h2[0].v().length; i++) {
                h2[0].v()[i] = (float) (h2[0].v()[i] * 6);
            }
            double[] prior = {0.5, 0.3, 0.2};
            classLogPrior = new double[spec.numClasses()];
            for (int i = 0; i < classLogPrior.length; i++) {
                classLogPrior[i] = (float) Math.log(i < prior.length && spec.numClasses() == 3 ? prior[i]
                        : 1.0 / spec.numClasses());
            }
            w.values.put("class_log_prior", new Array(classLogPrior, new long[] {spec.numClasses()}));
        }

        /** log p(c) as stored. */
        public double[] classLogPrior() {
            return classLogPrior.clone();
        }

        /** Writes the checkpoint folder {@code dir}. */
        public void write(Path dir) {
            new Checkpoint(Checkpoint.KIND_PRIOR, spec.toJson(),
                    Provenance.now(1, "synthetic", "reference", "reference", 0, 0, Map.of()), Map.of())
                    .write(dir, w.entries());
        }

        /** log p(z_i | z_&lt;i, c) [B, hw, K] of grids [B * hw] and classes [B]. */
        public double[] logProbs(long[] grids, long[] classes) {
            int b = classes.length;
            int c = spec.channels();
            int hh = spec.latent().height();
            int ww = spec.latent().width();
            int k = spec.latent().codebookSize();
            double[] x = new double[b * c * hh * ww];
            Array emb = w.get("embedding.weight");
            for (int n = 0; n < b; n++) {
                for (int p = 0; p < hh * ww; p++) {
                    for (int ch = 0; ch < c; ch++) {
                        x[(n * c + ch) * hh * ww + p] = emb.v()[(int) grids[n * hh * ww + p] * c + ch];
                    }
                }
            }
            Array v = new Array(x, new long[] {b, c, hh, ww});
            Array h = v;
            for (int l = 0; l < spec.layers(); l++) {
                Array[] next = gated(l, v, h, classes);
                v = next[0];
                h = next[1];
            }
            Array logits = applyConv(act(Activation.RELU, applyConv(h, named("head.0"), 1, 0, 0)), named("head.2"), 1,
                    0, 0);
            double[] out = new double[b * hh * ww * k];
            for (int n = 0; n < b; n++) {
                for (int p = 0; p < hh * ww; p++) {
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < k; j++) {
                        max = Math.max(max, logits.v()[(n * k + j) * hh * ww + p]);
                    }
                    double sum = 0;
                    for (int j = 0; j < k; j++) {
                        sum += Math.exp(logits.v()[(n * k + j) * hh * ww + p] - max);
                    }
                    for (int j = 0; j < k; j++) {
                        out[(n * hh * ww + p) * k + j] = logits.v()[(n * k + j) * hh * ww + p] - max - Math.log(sum);
                    }
                }
            }
            return out;
        }

        /** log p(z | c) [B]. */
        public double[] logProb(long[] grids, long[] classes) {
            int hw = spec.latent().positions();
            int k = spec.latent().codebookSize();
            double[] lp = logProbs(grids, classes);
            double[] out = new double[classes.length];
            for (int n = 0; n < classes.length; n++) {
                for (int p = 0; p < hw; p++) {
                    out[n] += lp[(n * hw + p) * k + (int) grids[n * hw + p]];
                }
            }
            return out;
        }

        private Array[] named(String name) {
            return new Array[] {w.get(name + ".weight"), w.get(name + ".bias")};
        }

        private Array[] gated(int l, Array v, Array h, long[] classes) {
            String name = "layers." + l;
            int kernel = l == 0 ? spec.firstKernel() : spec.kernel();
            int pad = kernel / 2;
            Array[] vert = named(name + ".vert");
            Array[] horiz = named(name + ".horiz");
            if (l == 0) {
                vert = new Array[] {masked(vert[0], true), vert[1]};
                horiz = new Array[] {masked(horiz[0], false), horiz[1]};
            }
            Array vPre = applyConv(padded(v, pad, pad, pad), vert, 1, 0, 0);
            Array hPre = add(applyConv(padded(h, 0, pad, 0), horiz, 1, 0, 0),
                    applyConv(vPre, named(name + ".vert_to_horiz"), 1, 0, 0));
            Array cond = w.get(name + ".class_embedding.weight");
            Array vOut = gate(vPre, cond, classes);
            Array hOut = applyConv(gate(hPre, cond, classes), named(name + ".horiz_resid"), 1, 0, 0);
            return new Array[] {vOut, l == 0 ? hOut : add(hOut, h)};
        }

        /** The first layer's weight with its last kernel row (vertical) or column (horizontal) zeroed. */
        private static Array masked(Array weight, boolean vertical) {
            double[] m = weight.v().clone();
            int kh = weight.dim(2);
            int kw = weight.dim(3);
            for (int i = 0; i < m.length; i++) {
                int within = i % (kh * kw);
                if (vertical ? within / kw == kh - 1 : within % kw == kw - 1) {
                    m[i] = 0;
                }
            }
            return new Array(m, weight.s());
        }

        /** Zero padding of [B, C, H, W] by {@code top} rows above, {@code left} and {@code right} columns. */
        private static Array padded(Array x, int top, int left, int right) {
            int b = x.dim(0);
            int c = x.dim(1);
            int hh = x.dim(2);
            int ww = x.dim(3);
            int nh = hh + top;
            int nw = ww + left + right;
            double[] y = new double[b * c * nh * nw];
            for (int bc = 0; bc < b * c; bc++) {
                for (int r = 0; r < hh; r++) {
                    for (int col = 0; col < ww; col++) {
                        y[(bc * nh + r + top) * nw + col + left] = x.v()[(bc * hh + r) * ww + col];
                    }
                }
            }
            return new Array(y, new long[] {b, c, nh, nw});
        }

        private static Array gate(Array x, Array cond, long[] classes) {
            int b = x.dim(0);
            int c2 = x.dim(1);
            int c = c2 / 2;
            int hw = x.dim(2) * x.dim(3);
            double[] y = new double[b * c * hw];
            for (int n = 0; n < b; n++) {
                for (int ch = 0; ch < c; ch++) {
                    double ca = cond.v()[(int) classes[n] * c2 + ch];
                    double cb = cond.v()[(int) classes[n] * c2 + c + ch];
                    for (int p = 0; p < hw; p++) {
                        double a = x.v()[(n * c2 + ch) * hw + p] + ca;
                        double g = x.v()[(n * c2 + c + ch) * hw + p] + cb;
                        y[(n * c + ch) * hw + p] = Math.tanh(a) / (1 + Math.exp(-g));
                    }
                }
            }
            return new Array(y, new long[] {b, c, x.dim(2), x.dim(3)});
        }
    }
}
