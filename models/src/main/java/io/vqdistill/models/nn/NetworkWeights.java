package io.vqdistill.models.nn;

import io.vqdistill.api.Backend;
import io.vqdistill.api.DType;
import io.vqdistill.api.FormatException;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorScope;
import io.vqdistill.formats.SafeTensors;
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

    /** The FLOAT32 values of tensor {@code name}, which must have {@code shape}. */
    float[] floats(String name, long... shape) {
        try {
            float[] values = source.get(name, DType.FLOAT32, shape).toFloats();
            used.add(name);
            return values;
        } catch (FormatException e) {
            throw new FormatException(e.getMessage() + " (loading on backend " + backend.name() + ")", e);
        }
    }

    /** Tensor {@code name} as an engine tensor, FLOAT32 {@code shape}. */
    Tensor tensor(String name, long... shape) {
        return own(backend.of(floats(name, shape), shape));
    }

    /** An engine tensor made here from computed values (e.g. folded BatchNorm statistics). */
    Tensor constant(float[] values, long... shape) {
        return own(backend.of(values, shape));
    }

    /** Marks the INT64 scalar {@code name} (such as a BatchNorm's {@code num_batches_tracked}) as read. */
    void counter(String name) {
        try {
            source.get(name, DType.INT64);
            used.add(name);
        } catch (FormatException e) {
            throw new FormatException(e.getMessage() + " (loading on backend " + backend.name() + ")", e);
        }
    }

    /** The convolution {@code name}.weight [out, in, kH, kW] and {@code name}.bias [out]. */
    ConvWeights conv(String name, int in, int out, int kH, int kW) {
        return conv(name, in, out, kH, kW, null);
    }

    /**
     * The convolution {@code name} with its weight multiplied by {@code mask} [kH * kW] (a masked
     * convolution), or unmasked when {@code mask} is null.
     */
    ConvWeights conv(String name, int in, int out, int kH, int kW, float[] mask) {
        float[] w = floats(name + ".weight", out, in, kH, kW);
        if (mask != null) {
            int window = kH * kW;
            for (int i = 0; i < w.length; i++) {
                w[i] *= mask[i % window];
            }
        }
        float[] b = floats(name + ".bias", out);
        try (TensorScope scope = TensorScope.open()) {
            return own(ops.convWeights(backend.of(w, out, in, kH, kW), backend.of(b, out)));
        }
    }

    /** The transposed convolution {@code name}.weight [in, out, k, k] and {@code name}.bias [out]. */
    ConvWeights transposedConv(String name, int in, int out, int k) {
        float[] w = floats(name + ".weight", in, out, k, k);
        float[] b = floats(name + ".bias", out);
        try (TensorScope scope = TensorScope.open()) {
            return own(ops.transposedConvWeights(backend.of(w, in, out, k, k), backend.of(b, out)));
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
                RuntimeException r = e instanceof RuntimeException re ? re : new IllegalStateException(e);
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
