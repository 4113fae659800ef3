package io.vqdistill.models.nn;

import io.vqdistill.api.Backend;
import io.vqdistill.api.DType;
import io.vqdistill.api.FormatException;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorException;
import io.vqdistill.api.TensorScope;
import io.vqdistill.formats.SafeTensors;
import io.vqdistill.models.layout.ConvLayer;
import io.vqdistill.models.layout.ConvTransposeLayer;
import io.vqdistill.models.layout.Parameter;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The tensors of one checkpoint's {@code weights.safetensors} turned into engine tensors and
 * prepared convolutions of a backend, each checked for its name, dtype and shape. Everything made
 * here is owned here and released by {@link #close()}. Errors name the file, the tensor, both
 * shapes and the backend.
 */
final class NetworkWeights implements AutoCloseable {
    private final SafeTensors source;
    private final Backend backend;
    private final NetworkOps ops;
    private final Set<String> used = new LinkedHashSet<>();
    private final List<AutoCloseable> owned = new ArrayList<>();

    NetworkWeights(SafeTensors source, Backend backend, NetworkOps ops) {
        this.source = source;
        this.backend = backend;
        this.ops = ops;
    }

    /** The backend the tensors live on. */
    Backend backend() {
        return backend;
    }

    /** The operations of that backend. */
    NetworkOps ops() {
        return ops;
    }

    /** The FLOAT32 values of {@code p}, which must have its declared shape. */
    float[] floats(Parameter p) {
        try {
            float[] values = source.get(p.name(), DType.FLOAT32, p.shape()).toFloats();
            used.add(p.name());
            return values;
        } catch (FormatException e) {
            throw new FormatException(e.getMessage() + " (loading on backend " + backend.name() + ")", e);
        }
    }

    /** {@code p} as an engine tensor of its declared shape. */
    Tensor tensor(Parameter p) {
        return own(backend.of(floats(p), p.shape()));
    }

    /** An engine tensor made here from computed values (e.g. folded BatchNorm statistics). */
    Tensor constant(float[] values, long... shape) {
        return own(backend.of(values, shape));
    }

    /** Marks the INT64 scalar {@code p} (such as a BatchNorm's {@code num_batches_tracked}) as read. */
    void counter(Parameter p) {
        try {
            source.get(p.name(), DType.INT64);
            used.add(p.name());
        } catch (FormatException e) {
            throw new FormatException(e.getMessage() + " (loading on backend " + backend.name() + ")", e);
        }
    }

    /** The convolution {@code c}, its weight multiplied by its mask if it has one. */
    ConvWeights conv(ConvLayer c) {
        float[] w = floats(c.weight());
        float[] mask = c.mask();
        if (mask != null) {
            int window = c.kernelHeight() * c.kernelWidth();
            for (int i = 0; i < w.length; i++) {
                w[i] *= mask[i % window];
            }
        }
        float[] b = floats(c.bias());
        try (TensorScope scope = TensorScope.open()) {
            return own(ops.convWeights(backend.of(w, c.weight().shape()), backend.of(b, c.bias().shape())));
        }
    }

    /** The transposed convolution {@code c}. */
    ConvWeights transposedConv(ConvTransposeLayer c) {
        float[] w = floats(c.weight());
        float[] b = floats(c.bias());
        try (TensorScope scope = TensorScope.open()) {
            return own(ops.transposedConvWeights(backend.of(w, c.weight().shape()), backend.of(b, c.bias().shape())));
        }
    }

    /** Fails naming every stored tensor that the architecture did not read. */
    void checkAllUsed() {
        Set<String> unexpected = new TreeSet<>(source.names());
        unexpected.removeAll(used);
        if (!unexpected.isEmpty()) {
            throw new FormatException(source.file() + ": tensors " + unexpected
                    + " are not part of this architecture (loading on backend " + backend.name() + ")");
        }
    }

    private <T extends AutoCloseable> T own(T resource) {
        if (resource instanceof Tensor t) {
            TensorScope.detach(t);
        }
        owned.add(resource);
        return resource;
    }

    @Override
    public void close() {
        RuntimeException first = null;
        for (int i = owned.size() - 1; i >= 0; i--) {
            try {
                owned.get(i).close();
            } catch (Exception e) {
                RuntimeException r = e instanceof RuntimeException re ? re
                        : new TensorException("cannot release a network tensor on backend " + backend.name() + ": " + e, e);
                if (first == null) {
                    first = r;
                } else {
                    first.addSuppressed(r);
                }
            }
        }
        owned.clear();
        if (first != null) {
            throw first;
        }
    }
}
