package io.vqdistill.backend.djl.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.vqdistill.api.Backend;
import io.vqdistill.api.Shapes;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorException;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.model.Decoder;
import io.vqdistill.api.model.ImageShape;
import io.vqdistill.api.model.LatentShape;
import io.vqdistill.api.train.DecoderHead;
import java.util.LinkedHashMap;
import java.util.Map;

/** The decoder of a VQ-VAE checkpoint, in inference mode; calls are serialised. */
final class DjlDecoder implements Decoder {
    private final Backend backend;
    private final NDManager root;
    private final Params params;
    private final VqVaeNet net;

    DjlDecoder(Backend backend, NDManager root, Params params, VqVaeNet net) {
        this.backend = backend;
        this.root = root;
        this.params = params;
        this.net = net;
    }

    @Override
    public LatentShape latentShape() {
        return net.spec().latent();
    }

    @Override
    public ImageShape imageShape() {
        return net.spec().image();
    }

    @Override
    public String leafFamily() {
        return net.spec().head().leafFamily();
    }

    @Override
    public synchronized Map<String, Tensor> decode(Tensor codes) {
        LatentShape l = latentShape();
        if (codes.rank() != 2 || codes.shape(1) != l.positions() || !codes.dtype().isInteger()) {
            throw new TensorException("decode: codes must be int64 [B, " + l.positions() + "], found "
                    + codes.dtype().label() + " " + Shapes.format(codes.shape()));
        }
        long[] c = codes.toLongArray();
        for (int i = 0; i < c.length; i++) {
            if (c[i] < 0 || c[i] >= l.codebookSize()) {
                throw new TensorException("decode: code " + c[i] + " of grid " + i / l.positions() + " at position "
                        + i % l.positions() + " is outside [0, " + l.codebookSize() + ")");
            }
        }
        long b = codes.shape(0);
        int pixels = imageShape().pixels();
        GradMode.off();
        try (NDManager scope = root.newSubManager()) {
            params.attachTo(scope);
            NDArray out = net.decode(net.embed(scope.create(c, new Shape(b, l.positions()))), false);
            Map<String, Tensor> result = new LinkedHashMap<>();
            try (TensorScope ts = TensorScope.open()) {
                if (net.spec().head() == DecoderHead.GAUSSIAN) {
                    result.put("mean", ts.keep(backend.of(net.gaussianMean(out).toFloatArray(), b, pixels)));
                    result.put("log_var", ts.keep(backend.of(net.gaussianLogVar(out).toFloatArray(), b, pixels)));
                } else {
                    // [B, C, V, H, W] -> [B, C, H, W, V] -> [B, S, V]
                    NDArray logits = net.categoricalLogProbs(out).transpose(0, 1, 3, 4, 2);
                    result.put("logits", ts.keep(backend.of(logits.toFloatArray(), b, pixels, DecoderHead.LEVELS)));
                }
            }
            return result;
        }
    }

    @Override
    public synchronized void close() {
        params.close();
    }
}
