package io.vqdistill.backend.djl.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.vqdistill.api.Backend;
import io.vqdistill.api.DType;
import io.vqdistill.api.Shapes;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorException;
import io.vqdistill.api.model.Encoder;
import io.vqdistill.api.model.ImageShape;
import io.vqdistill.api.model.LatentShape;
import io.vqdistill.api.train.VqVaeSpec;

/** The encoder and quantiser of a VQ-VAE checkpoint, in inference mode; calls are serialised. */
final class DjlEncoder implements Encoder {
    private final Backend backend;
    private final NDManager root;
    private final Params params;
    private final VqVaeNet net;

    DjlEncoder(Backend backend, NDManager root, Params params, VqVaeNet net) {
        this.backend = backend;
        this.root = root;
        this.params = params;
        this.net = net;
    }

    @Override
    public ImageShape imageShape() {
        return net.spec().image();
    }

    @Override
    public LatentShape latentShape() {
        return net.spec().latent();
    }

    @Override
    public synchronized Tensor encode(Tensor images) {
        VqVaeSpec spec = net.spec();
        ImageShape s = spec.image();
        long[] expected = {images.rank() == 4 ? images.shape(0) : -1, s.channels(), s.height(), s.width()};
        if (images.rank() != 4 || images.shape(1) != s.channels() || images.shape(2) != s.height()
                || images.shape(3) != s.width() || images.dtype() != DType.FLOAT32) {
            throw new TensorException("encode: images must be float32 " + Shapes.format(expected) + ", found "
                    + images.dtype().label() + " " + Shapes.format(images.shape()));
        }
        GradMode.off();
        try (NDManager scope = root.newSubManager()) {
            params.attachTo(scope);
            NDArray x = scope.create(images.toFloatArray(), new Shape(images.shape()));
            long[] codes = net.quantise(net.encode(x, false)).codes().toLongArray();
            return backend.of(codes, images.shape(0), spec.latent().positions());
        }
    }

    @Override
    public synchronized void close() {
        params.close();
    }
}
