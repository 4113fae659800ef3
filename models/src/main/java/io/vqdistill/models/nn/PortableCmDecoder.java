package io.vqdistill.models.nn;

import io.vqdistill.api.Backend;
import io.vqdistill.api.DType;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.Shapes;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorScope;
import io.vqdistill.models.checkpoint.Checkpoint;
import io.vqdistill.models.layout.CmLayout;
import io.vqdistill.models.layout.LinearLayer;
import io.vqdistill.models.nn.ConvBlocks.Norm;
import io.vqdistill.models.nn.ConvBlocks.Residual;
import io.vqdistill.models.nn.ConvBlocks.UpConv;
import io.vqdistill.models.train.CmDecoder;
import io.vqdistill.models.train.CmSpec;
import io.vqdistill.models.train.DecoderHead;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The decoder of a continuous-mixture checkpoint ({@link Checkpoint#KIND_CM}) on any backend's
 * {@link Tensor}s: latent points to the leaf parameters of every pixel, in the names and shapes of
 * the circuit leaf families ({@code mean} and {@code log_var} FLOAT32 [B, S] for Gaussian leaves,
 * {@code logits} FLOAT32 [B, S, 256] for categorical ones), computed as the trainers compute them
 * (matrix products, ReLU, a sigmoid mean and a clamped log-variance). A convolutional decoder
 * ({@link CmDecoder.Conv}) runs in inference mode, BatchNorm by its running statistics, through the
 * backend's {@link NetworkOps}. Owns its weights until {@link #close()}.
 */
public final class PortableCmDecoder implements AutoCloseable {
    private final CmSpec spec;
    private final CmLayout layout;
    private final NetworkWeights weights;
    private final List<Tensor[]> layers = new ArrayList<>();
    private Norm projectionNorm;
    private Residual residual;
    private UpConv up;
    private Norm upNorm;
    private UpConv outputConv;

    private PortableCmDecoder(CmLayout layout, NetworkWeights weights) {
        this.spec = layout.spec();
        this.layout = layout;
        this.weights = weights;
    }

    /**
     * Loads the decoder of the checkpoint folder {@code dir} onto {@code backend}.
     *
     * @throws io.vqdistill.api.FormatException when the folder is not a continuous-mixture checkpoint
     *                                          or a tensor is missing, mis-shaped or unexpected
     * @throws InvalidArgumentException when the decoder is convolutional and {@code backend} has no
     *                                  {@link NetworkOps}
     */
    public static PortableCmDecoder load(Backend backend, Path dir) {
        Checkpoint.Loaded loaded = Checkpoint.load(dir, Checkpoint.KIND_CM);
        CmSpec spec = CmSpec.fromJson(loaded.config().architecture(), Checkpoint.configFile(dir));
        CmLayout layout = new CmLayout(spec);
        NetworkOps ops = !layout.convolutional() ? null : backend.capability(NetworkOps.class).orElseThrow(
                () -> new InvalidArgumentException("backend " + backend.name() + " has no network operations, which "
                        + "the convolutional decoder of " + dir + " needs"));
        PortableCmDecoder d = new PortableCmDecoder(layout, new NetworkWeights(loaded.weights(), backend, ops));
        try {
            if (layout.convolutional()) {
                d.layers.add(d.linear(layout.projection()));
                d.projectionNorm = Norm.read(d.weights, layout.projectionNorm());
                d.residual = Residual.read(d.weights, layout.residual());
                d.up = UpConv.read(d.weights, layout.up());
                d.upNorm = Norm.read(d.weights, layout.upNorm());
                d.outputConv = UpConv.read(d.weights, layout.outputConv());
            } else {
                for (LinearLayer l : layout.hidden()) {
                    d.layers.add(d.linear(l));
                }
                d.layers.add(d.linear(layout.output()));
            }
            d.weights.checkAllUsed();
        } catch (RuntimeException e) {
            d.close();
            throw e;
        }
        return d;
    }

    /** The weight transposed to [in, out] and the bias [1, out]. */
    private Tensor[] linear(LinearLayer l) {
        float[] w = weights.floats(l.weight());
        float[] t = new float[w.length];
        for (int o = 0; o < l.out(); o++) {
            for (int i = 0; i < l.in(); i++) {
                t[i * l.out() + o] = w[o * l.in() + i];
            }
        }
        return new Tensor[] {weights.constant(t, l.in(), l.out()), weights.constant(weights.floats(l.bias()), 1, l.out())};
    }

    /** The architecture. */
    public CmSpec spec() {
        return spec;
    }

    /**
     * The leaf parameters of the points {@code z}, FLOAT32 [B, d]; the caller closes them.
     *
     * @throws InvalidArgumentException when {@code z} is not FLOAT32 [B, d]
     */
    public Map<String, Tensor> decode(Tensor z) {
        if (z.dtype() != DType.FLOAT32 || z.rank() != 2 || z.shape(1) != spec.latentDim()) {
            throw new InvalidArgumentException("latent points must be float32 [B, " + spec.latentDim() + "], found "
                    + z.dtype().label() + " " + Shapes.format(z.shape()));
        }
        long b = z.shape(0);
        int s = spec.variables();
        Map<String, Tensor> out = new LinkedHashMap<>();
        try (TensorScope scope = TensorScope.open()) {
            Tensor h = layout.convolutional() ? convolutional(z) : perceptron(z);
            if (spec.head() == DecoderHead.GAUSSIAN) {
                Tensor raw = h.slice(1, 0, s);
                out.put("mean", scope.keep(raw.scalarLike(1).div(raw.neg().exp().add(1.0))));
                out.put("log_var", scope.keep(h.slice(1, s, 2L * s).clamp(DecoderHead.LOG_VAR_MIN,
                        DecoderHead.LOG_VAR_MAX)));
            } else {
                out.put("logits", scope.keep(h.reshape(b, s, DecoderHead.LEVELS)));
            }
        }
        return out;
    }

    /** The multilayer perceptron's output rows [B, outputs]. */
    private Tensor perceptron(Tensor z) {
        Tensor h = z;
        for (int i = 0; i < layers.size(); i++) {
            Tensor[] l = layers.get(i);
            h = h.matmul(l[0]).add(l[1]);
            if (i < layers.size() - 1) {
                h = h.maximum(h.scalarLike(0));
            }
        }
        return h;
    }

    /** The convolutional decoder's output maps [B, maps, H, W] as rows [B, outputs] in {@link CmLayout}'s order. */
    private Tensor convolutional(Tensor z) {
        NetworkOps ops = weights.ops();
        long b = z.shape(0);
        int c = ((CmDecoder.Conv) spec.decoder()).channels();
        Tensor[] fc = layers.get(0);
        Tensor h = z.matmul(fc[0]).add(fc[1]).reshape(b, c, layout.gridHeight(), layout.gridWidth());
        h = ops.activation(Activation.RELU, projectionNorm.apply(h));
        h = ops.activation(Activation.RELU, residual.apply(ops, h));
        h = ops.activation(Activation.RELU, upNorm.apply(up.apply(ops, h)));
        Tensor out = outputConv.apply(ops, h);
        if (spec.head() == DecoderHead.GAUSSIAN) {
            return out.reshape(b, spec.outputsPerPoint());
        }
        return out.reshape(b, spec.image().channels(), DecoderHead.LEVELS, spec.image().height(), spec.image().width())
                .transpose(0, 1, 3, 4, 2).reshape(b, spec.outputsPerPoint());
    }

    /** Releases the weights. */
    @Override
    public void close() {
        weights.close();
    }
}
