package io.vqdistill.backend.djl.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.vqdistill.api.DType;
import io.vqdistill.api.FormatException;
import io.vqdistill.formats.SafeTensors;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.ToDoubleFunction;

/**
 * The named tensors of one network, in PyTorch's state-dict naming and layout: trainable parameters
 * and buffers (BatchNorm running statistics, constants). Layers register their tensors while the
 * network is built; the values come either from a seeded initialiser or from a safetensors file,
 * where every registered name must be present with the registered shape.
 */
final class Params implements AutoCloseable {

    /** One registered tensor. */
    record Slot(String name, NDArray array, boolean trainable) {
    }

    private final NDManager manager;
    private final SafeTensors source;
    private final SplittableRandom rng;
    private final Map<String, Slot> slots = new LinkedHashMap<>();

    private Params(NDManager manager, SafeTensors source, SplittableRandom rng) {
        this.manager = manager;
        this.source = source;
        this.rng = rng;
    }

    /** Parameters drawn from seeded initialisers, owned by a new child of {@code parent}. */
    static Params random(NDManager parent, long seed) {
        return new Params(parent.newSubManager(), null, new SplittableRandom(seed));
    }

    /** Parameters read from {@code file}, owned by a new child of {@code parent}. */
    static Params fromFile(NDManager parent, SafeTensors file) {
        return new Params(parent.newSubManager(), file, null);
    }

    /** The manager owning every registered array. */
    NDManager manager() {
        return manager;
    }

    /** A trainable FLOAT32 parameter; when initialising, each element is {@code init} applied to the generator. */
    NDArray param(String name, Shape shape, ToDoubleFunction<SplittableRandom> init) {
        NDArray a = floats(name, shape, init);
        a.setRequiresGradient(true);
        return register(name, a, true);
    }

    /** A trainable parameter drawn from U(-bound, bound). */
    NDArray uniform(String name, Shape shape, double bound) {
        return param(name, shape, r -> (2 * r.nextDouble() - 1) * bound);
    }

    /** A trainable parameter filled with {@code value}. */
    NDArray constant(String name, Shape shape, double value) {
        return param(name, shape, r -> value);
    }

    /** A trainable parameter drawn from N(0, std^2). */
    NDArray normal(String name, Shape shape, double std) {
        return param(name, shape, r -> r.nextGaussian() * std);
    }

    /** A FLOAT32 buffer (not trained by gradients) filled with {@code value} when initialising. */
    NDArray buffer(String name, Shape shape, double value) {
        return register(name, floats(name, shape, r -> value), false);
    }

    /** A FLOAT32 buffer holding {@code values} when initialising (ignored when reading a file). */
    NDArray buffer(String name, Shape shape, float[] values) {
        NDArray a;
        if (source != null) {
            a = read(name, shape);
        } else {
            if (values.length != shape.size()) {
                throw new IllegalArgumentException(name + ": " + values.length + " values for shape " + shape);
            }
            a = manager.create(values, shape);
        }
        return register(name, a, false);
    }

    /** A scalar INT64 counter buffer (BatchNorm's {@code num_batches_tracked}), 0 when initialising. */
    NDArray counter(String name) {
        NDArray a;
        if (source != null) {
            SafeTensors.Entry e = source.get(name, DType.INT64);
            a = manager.create(e.buffer().getLong(0));
        } else {
            a = manager.create(0L);
        }
        return register(name, a, false);
    }

    private NDArray floats(String name, Shape shape, ToDoubleFunction<SplittableRandom> init) {
        if (source != null) {
            return read(name, shape);
        }
        float[] v = new float[Math.toIntExact(shape.size())];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) init.applyAsDouble(rng);
        }
        return manager.create(v, shape);
    }

    private NDArray read(String name, Shape shape) {
        SafeTensors.Entry e = source.get(name, DType.FLOAT32, shape.getShape());
        return manager.create(e.toFloats(), shape);
    }

    private NDArray register(String name, NDArray a, boolean trainable) {
        if (slots.containsKey(name)) {
            a.close();
            throw new IllegalStateException("tensor name '" + name + "' registered twice");
        }
        slots.put(name, new Slot(name, a, trainable));
        return a;
    }

    /**
     * Checks that the file read from holds no tensor the network did not ask for, other than
     * those whose names start with one of {@code ignoredPrefixes}.
     */
    void checkNoUnexpected(String... ignoredPrefixes) {
        if (source == null) {
            return;
        }
        List<String> unexpected = new ArrayList<>();
        for (String n : source.names()) {
            boolean ignored = false;
            for (String p : ignoredPrefixes) {
                ignored |= n.startsWith(p);
            }
            if (!ignored && !slots.containsKey(n)) {
                unexpected.add(n);
            }
        }
        if (!unexpected.isEmpty()) {
            throw new FormatException(source.file() + ": tensors " + unexpected + " are not part of this architecture");
        }
    }

    /** Every registered tensor, in registration order. */
    Collection<Slot> slots() {
        return slots.values();
    }

    /** The trainable parameters, in registration order. */
    List<Slot> trainable() {
        return slots.values().stream().filter(Slot::trainable).toList();
    }

    /** Number of trainable scalars. */
    long parameterCount() {
        return trainable().stream().mapToLong(s -> s.array().size()).sum();
    }

    /** Attaches every registered array to {@code scope} until it closes, so results of operations on them die with it. */
    void attachTo(NDManager scope) {
        for (Slot s : slots.values()) {
            s.array().tempAttach(scope);
        }
    }

    /** The registered tensors as safetensors entries, with PyTorch's names, in registration order. */
    List<SafeTensors.Entry> entries() {
        List<SafeTensors.Entry> out = new ArrayList<>();
        for (Slot s : slots.values()) {
            out.add(entry(s.name(), s.array()));
        }
        return out;
    }

    /** One array as a safetensors entry named {@code name}. */
    static SafeTensors.Entry entry(String name, NDArray a) {
        long[] shape = a.getShape().getShape();
        if (a.getDataType() == DataType.INT64) {
            return SafeTensors.Entry.of(name, a.toLongArray(), shape);
        }
        return SafeTensors.Entry.of(name, a.toFloatArray(), shape);
    }

    /** Frees every registered array. */
    @Override
    public void close() {
        manager.close();
    }
}
