package io.vqdistill.backend.djl.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.vqdistill.api.DType;
import io.vqdistill.api.FormatException;
import io.vqdistill.formats.SafeTensors;
import io.vqdistill.models.layout.NetworkLayout;
import io.vqdistill.models.layout.Parameter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * The arrays of one network's {@link NetworkLayout}: every declared tensor, in its order, holding
 * either the layout's initial values of a run or the values of a safetensors file, where every
 * declared name must be present with its declared shape. Trainable tensors record gradients, or of
 * a file read for fitting part of a network, those of the part ({@link #fromFile(NDManager,
 * NetworkLayout, SafeTensors, Predicate)}).
 */
final class Params implements AutoCloseable {

    /** One tensor of the layout and its array. */
    record Slot(Parameter parameter, NDArray array) {
        /** The checkpoint name. */
        String name() {
            return parameter.name();
        }

        /** True when Adam trains it. */
        boolean trainable() {
            return parameter.trainable();
        }
    }

    private final NDManager manager;
    private final SafeTensors source;
    private final Predicate<String> fitted;
    private final Map<String, Slot> slots = new LinkedHashMap<>();

    private Params(NDManager manager, SafeTensors source, Predicate<String> fitted) {
        this.manager = manager;
        this.source = source;
        this.fitted = fitted;
    }

    /**
     * The tensors of {@code layout} holding {@code values} (the layout's initial values of a run;
     * counters start at 0), owned by a new child of {@code parent}.
     */
    static Params initial(NDManager parent, NetworkLayout layout, Map<String, float[]> values) {
        Params p = new Params(parent.newSubManager(), null, name -> true);
        try {
            for (Parameter t : layout.parameters()) {
                Shape shape = new Shape(t.shape());
                p.register(t, t.role() == Parameter.Role.COUNTER ? p.manager.create(0L)
                        : p.manager.create(values.get(t.name()), shape));
            }
        } catch (RuntimeException | Error e) {
            p.close();
            throw e;
        }
        return p;
    }

    /** The tensors of {@code layout} read from {@code file}, owned by a new child of {@code parent}. */
    static Params fromFile(NDManager parent, NetworkLayout layout, SafeTensors file) {
        return fromFile(parent, layout, file, name -> true);
    }

    /**
     * The tensors of {@code layout} read from {@code file}, owned by a new child of {@code parent}, of
     * which only the trainable ones whose names {@code fitted} accepts record gradients and count as
     * {@link #trainable()}: the others stay as read.
     */
    static Params fromFile(NDManager parent, NetworkLayout layout, SafeTensors file, Predicate<String> fitted) {
        Params p = new Params(parent.newSubManager(), file, fitted);
        try {
            for (Parameter t : layout.parameters()) {
                NDArray a;
                if (t.role() == Parameter.Role.COUNTER) {
                    a = p.manager.create(file.get(t.name(), DType.INT64).buffer().getLong(0));
                } else {
                    a = p.manager.create(file.get(t.name(), DType.FLOAT32, t.shape()).toFloats(), new Shape(t.shape()));
                }
                p.register(t, a);
            }
        } catch (RuntimeException | Error e) {
            p.close();
            throw e;
        }
        return p;
    }

    private void register(Parameter t, NDArray a) {
        if (t.trainable() && fitted.test(t.name())) {
            a.setRequiresGradient(true);
        }
        slots.put(t.name(), new Slot(t, a));
    }

    /** The manager owning every array. */
    NDManager manager() {
        return manager;
    }

    /** The array of {@code t}, which must be a tensor of the layout these parameters were made for. */
    NDArray array(Parameter t) {
        Slot s = slots.get(t.name());
        if (s == null) {
            throw new AssertionError("tensor '" + t.name() + "' is not part of this layout");
        }
        return s.array();
    }

    /**
     * Checks that the file read from holds no tensor the layout lacks, other than those that
     * {@code ignored} accepts (such as the optimiser's moments in a resume file).
     */
    void checkNoUnexpected(Predicate<String> ignored) {
        if (source == null) {
            return;
        }
        List<String> unexpected = new ArrayList<>();
        for (String n : source.names()) {
            if (!ignored.test(n) && !slots.containsKey(n)) {
                unexpected.add(n);
            }
        }
        if (!unexpected.isEmpty()) {
            throw new FormatException(source.file() + ": tensors " + unexpected + " are not part of this architecture");
        }
    }

    /** Every tensor, in the layout's order. */
    Collection<Slot> slots() {
        return slots.values();
    }

    /** The trainable tensors that are fitted, in the layout's order. */
    List<Slot> trainable() {
        return slots.values().stream().filter(s -> s.trainable() && fitted.test(s.name())).toList();
    }

    /** Number of trainable scalars. */
    long parameterCount() {
        return trainable().stream().mapToLong(s -> s.array().size()).sum();
    }

    /** Attaches every array to {@code scope} until it closes, so results of operations on them die with it. */
    void attachTo(NDManager scope) {
        for (Slot s : slots.values()) {
            s.array().tempAttach(scope);
        }
    }

    /** The tensors as safetensors entries, with their checkpoint names, in the layout's order. */
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

    /** Frees every array. */
    @Override
    public void close() {
        manager.close();
    }
}
