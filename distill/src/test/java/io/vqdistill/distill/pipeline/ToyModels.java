package io.vqdistill.distill.pipeline;

import io.vqdistill.api.Backend;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.model.Classifier;
import io.vqdistill.api.model.Decoder;
import io.vqdistill.api.model.Encoder;
import io.vqdistill.api.model.ImageShape;
import io.vqdistill.api.model.LatentShape;
import io.vqdistill.api.model.Prior;
import io.vqdistill.distill.toy.TableDecoder;
import io.vqdistill.distill.toy.TablePrior;
import io.vqdistill.models.ModelLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * A model loader of toy networks: every folder holds the same table decoder and table prior. It
 * records what it loaded and what was closed.
 */
final class ToyModels implements ModelLoader {
    final TableDecoder decoder;
    TablePrior prior;
    /** Applied to every decoder output (to inject faults); the identity unless a test sets it. */
    UnaryOperator<Map<String, Tensor>> decoded = m -> m;
    final List<String> loaded = new ArrayList<>();
    final List<String> closed = new ArrayList<>();

    ToyModels(Backend backend, LatentShape shape, ImageShape image) {
        decoder = new TableDecoder(backend, shape, image, 1);
        prior = TablePrior.random(backend, shape, new double[] {0.5, 0.3, 0.2}, 1.0, 21);
    }

    /**
     * An encoder that maps an image to the grid whose code at position i is floor(K x_i) of its pixel
     * i (the toy's images have at least as many pixels as the grid has positions).
     */
    @Override
    public Encoder loadEncoder(Path dir) {
        loaded.add("encoder " + dir);
        LatentShape shape = decoder.latentShape();
        ImageShape image = decoder.imageShape();
        return new Encoder() {
            @Override
            public ImageShape imageShape() {
                return image;
            }

            @Override
            public LatentShape latentShape() {
                return shape;
            }

            @Override
            public Tensor encode(Tensor images) {
                float[] x = images.toFloatArray();
                int b = Math.toIntExact(images.shape(0));
                int p = shape.positions();
                long[] codes = new long[b * p];
                for (int i = 0; i < b; i++) {
                    for (int j = 0; j < p; j++) {
                        codes[i * p + j] = code(x[i * image.pixels() + j]);
                    }
                }
                return images.backend().of(codes, b, p);
            }

            @Override
            public void close() {
                closed.add("encoder " + dir);
            }
        };
    }

    /** The toy encoder's code of a pixel value in [0, 1). */
    int code(double value) {
        return (int) Math.min(decoder.latentShape().codebookSize() - 1, Math.floor(value
                * decoder.latentShape().codebookSize()));
    }

    @Override
    public Classifier loadClassifier(Path dir) {
        throw new UnsupportedOperationException("no classifier in the toy");
    }

    @Override
    public Decoder loadDecoder(Path dir) {
        loaded.add("decoder " + dir);
        return new Decoder() {
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
                return decoded.apply(decoder.decode(codes));
            }

            @Override
            public void close() {
                closed.add("decoder " + dir);
            }
        };
    }

    @Override
    public Prior loadPrior(Path dir) {
        loaded.add("prior " + dir);
        return prior;
    }
}
