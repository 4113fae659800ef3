package io.vqdistill.models.nn;

import io.vqdistill.api.Backend;
import io.vqdistill.api.DType;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.model.Decoder;
import io.vqdistill.api.model.Encoder;
import io.vqdistill.api.model.ImageShape;
import io.vqdistill.api.model.LatentShape;
import io.vqdistill.models.layout.ResidualLayer;
import io.vqdistill.models.layout.VqVaeLayout;
import io.vqdistill.models.nn.ConvBlocks.Conv;
import io.vqdistill.models.nn.ConvBlocks.Norm;
import io.vqdistill.models.nn.ConvBlocks.Residual;
import io.vqdistill.models.nn.ConvBlocks.UpConv;
import io.vqdistill.models.train.DecoderHead;
import io.vqdistill.models.train.VqVaeSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The VQ-VAE of a {@link VqVaeSpec} in inference mode on any backend with {@link NetworkOps}:
 * BatchNorm by its running statistics (folded into one scale and shift per channel at load time),
 * nearest-neighbour quantisation, and the decoder heads with the training clamps. The tensors are
 * those of the {@link VqVaeLayout} of the spec. Large batches are
 * processed in chunks of {@value #CHUNK}; calls are serialised.
 */
final class PortableVqVae implements Encoder, Decoder {
    /** Images or grids per network evaluation. */
    static final int CHUNK = 1024;

    private final VqVaeSpec spec;
    private final NetworkWeights weights;
    private final NetworkOps ops;
    private final Backend backend;
    private final List<Conv> down = new ArrayList<>();
    private final List<Norm> downNorm = new ArrayList<>();
    private final List<Residual> encoderRes = new ArrayList<>();
    private final Conv encoderProj;
    private final Tensor codebook;
    private final Tensor codebookSquaredNorms;
    private final Conv decoderProj;
    private final List<Residual> decoderRes = new ArrayList<>();
    private final List<UpConv> up = new ArrayList<>();
    private final List<Norm> upNorm = new ArrayList<>();
    private final Conv head;

    /** Reads every tensor of {@code layout} from {@code weights}, which this network then owns. */
    PortableVqVae(VqVaeLayout layout, NetworkWeights weights) {
        this.spec = layout.spec();
        this.weights = weights;
        this.ops = weights.ops();
        this.backend = weights.backend();
        for (VqVaeLayout.DownStage s : layout.down()) {
            down.add(Conv.read(weights, s.conv()));
            downNorm.add(Norm.read(weights, s.norm()));
        }
        for (ResidualLayer r : layout.encoderResiduals()) {
            encoderRes.add(Residual.read(weights, r));
        }
        encoderProj = Conv.read(weights, layout.encoderProjection());
        int k = spec.latent().codebookSize();
        int d = spec.embeddingDim();
        float[] cb = weights.floats(layout.codebook());
        codebook = weights.constant(cb, k, d);
        float[] norms = new float[k];
        for (int j = 0; j < k; j++) {
            double s = 0;
            for (int i = 0; i < d; i++) {
                s += (double) cb[j * d + i] * cb[j * d + i];
            }
            norms[j] = (float) s;
        }
        codebookSquaredNorms = weights.constant(norms, 1, k);
        decoderProj = Conv.read(weights, layout.decoderProjection());
        for (ResidualLayer r : layout.decoderResiduals()) {
            decoderRes.add(Residual.read(weights, r));
        }
        for (VqVaeLayout.UpStage s : layout.up()) {
            up.add(UpConv.read(weights, s.conv()));
            if (s.norm() != null) {
                upNorm.add(Norm.read(weights, s.norm()));
            }
        }
        head = layout.head() == null ? null : Conv.read(weights, layout.head());
        weights.checkAllUsed();
    }

    @Override
    public ImageShape imageShape() {
        return spec.image();
    }

    @Override
    public LatentShape latentShape() {
        return spec.latent();
    }

    @Override
    public String leafFamily() {
        return spec.head().leafFamily();
    }

    @Override
    public synchronized Tensor encode(Tensor images) {
        ModelArguments.images("encode", images, spec.image());
        long b = images.shape(0);
        List<Tensor> chunks = new ArrayList<>();
        try (TensorScope outer = TensorScope.open()) {
            for (long from = 0; from < b; from += CHUNK) {
                try (TensorScope scope = TensorScope.open()) {
                    Tensor x = images.slice(0, from, Math.min(b, from + CHUNK));
                    chunks.add(scope.keep(nearest(encoderOutput(x))));
                }
            }
            return outer.keep(rows(chunks, DType.INT64, b, spec.latent().positions()));
        }
    }

    /** Images [B, C, H, W] to the encoder output z_e [B, D, h, w]. */
    private Tensor encoderOutput(Tensor x) {
        Tensor h = x;
        for (int i = 0; i < down.size(); i++) {
            h = ops.activation(Activation.RELU, downNorm.get(i).apply(down.get(i).apply(ops, h)));
        }
        for (Residual r : encoderRes) {
            h = r.apply(ops, h);
        }
        return encoderProj.apply(ops, h);
    }

    /** Codes [B, h*w] of the nearest codebook vectors of z_e [B, D, h, w] (squared Euclidean distance). */
    private Tensor nearest(Tensor ze) {
        long b = ze.shape(0);
        long d = ze.shape(1);
        Tensor flat = ze.transpose(0, 2, 3, 1).reshape(-1, d);
        // |e|^2 - 2 z.e; the |z|^2 term is the same for every code of a row
        Tensor score = codebookSquaredNorms.sub(flat.matmul(codebook.transposeLast()).mul(2));
        return score.neg().argMax(1).reshape(b, spec.latent().positions());
    }

    @Override
    public synchronized Map<String, Tensor> decode(Tensor codes) {
        LatentShape l = spec.latent();
        long[] c = ModelArguments.grids("decode", codes, l, l.positions());
        long b = codes.shape(0);
        int pixels = spec.image().pixels();
        int ch = spec.image().channels();
        boolean gaussian = spec.head() == DecoderHead.GAUSSIAN;
        List<Tensor> first = new ArrayList<>();
        List<Tensor> second = new ArrayList<>();
        try (TensorScope outer = TensorScope.open()) {
            for (int from = 0; from < b; from += CHUNK) {
                int n = (int) Math.min(CHUNK, b - from);
                try (TensorScope scope = TensorScope.open()) {
                    long[] part = Arrays.copyOfRange(c, from * l.positions(), (from + n) * l.positions());
                    Tensor out = decoderOutput(embed(backend.of(part, n, l.positions())));
                    if (gaussian) {
                        first.add(scope.keep(ops.activation(Activation.SIGMOID, out.slice(1, 0, ch))
                                .reshape(n, pixels)));
                        second.add(scope.keep(out.slice(1, ch, 2L * ch)
                                .clamp(DecoderHead.LOG_VAR_MIN, DecoderHead.LOG_VAR_MAX).reshape(n, pixels)));
                    } else {
                        first.add(scope.keep(out.reshape(n, ch, DecoderHead.LEVELS, out.shape(2), out.shape(3))
                                .logSoftmax(2).transpose(0, 1, 3, 4, 2).reshape(n, pixels, DecoderHead.LEVELS)));
                    }
                }
            }
            Map<String, Tensor> result = new LinkedHashMap<>();
            if (gaussian) {
                result.put("mean", outer.keep(rows(first, DType.FLOAT32, b, pixels)));
                result.put("log_var", outer.keep(rows(second, DType.FLOAT32, b, pixels)));
            } else {
                result.put("logits", outer.keep(rows(first, DType.FLOAT32, b, pixels, DecoderHead.LEVELS)));
            }
            return result;
        }
    }

    /**
     * The chunks' results as one tensor of {@code shape} (its first axis the batch): their
     * concatenation, or an empty tensor of {@code dtype} for an empty batch.
     */
    private Tensor rows(List<Tensor> chunks, DType dtype, long... shape) {
        if (chunks.isEmpty()) {
            return backend.zeros(dtype, shape);
        }
        return chunks.size() == 1 ? chunks.get(0) : backend.concat(chunks, 0);
    }

    /** Codes [B, h*w] to their codebook vectors z_q [B, D, h, w]. */
    private Tensor embed(Tensor codes) {
        LatentShape l = spec.latent();
        return codebook.gather(0, codes.reshape(-1)).reshape(codes.shape(0), l.height(), l.width(), -1)
                .transpose(0, 3, 1, 2);
    }

    /** z_q [B, D, h, w] to the head's output [B, 2C or 256 C, H, W]. */
    private Tensor decoderOutput(Tensor zq) {
        Tensor h = decoderProj.apply(ops, zq);
        for (Residual r : decoderRes) {
            h = r.apply(ops, h);
        }
        h = ops.activation(Activation.RELU, h);
        for (int j = 0; j < up.size(); j++) {
            h = up.get(j).apply(ops, h);
            if (j < upNorm.size()) {
                h = ops.activation(Activation.RELU, upNorm.get(j).apply(h));
            }
        }
        return head == null ? h : head.apply(ops, h);
    }

    @Override
    public synchronized void close() {
        weights.close();
    }
}
