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

    @Override
    public Encoder loadEncoder(Path dir) {
        throw new UnsupportedOperationException("no encoder in the toy");
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
