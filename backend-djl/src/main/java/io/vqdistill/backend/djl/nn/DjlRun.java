package io.vqdistill.backend.djl.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import io.vqdistill.formats.SafeTensors;
import io.vqdistill.models.layout.NetworkLayout;
import io.vqdistill.models.train.AdamUpdate;
import io.vqdistill.models.train.EpochRunner;
import io.vqdistill.models.train.TrainingSpec;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The DJL engine of a training run ({@link EpochRunner.Engine}): the {@link Params} of the
 * network's layout, the network bound to them by a callback, and their {@link Adam}; one step
 * records the loss under a {@link GradientCollector} and updates outside it.
 */
final class DjlRun implements EpochRunner.Engine {
    private final NDManager root;
    private final TrainingSpec training;
    private final NetworkLayout layout;
    private final Supplier<Map<String, float[]>> initialValues;
    private final Supplier<SafeTensors> source;
    private final Predicate<String> fitted;
    private final Consumer<Params> build;
    private Params params;
    private Adam adam;

    /**
     * A run on {@code root} of the network of {@code layout}, which {@code build} binds to given
     * parameters; a new run starts from {@code initialValues} (the layout's, for the run's seed).
     */
    DjlRun(NDManager root, TrainingSpec training, NetworkLayout layout, Supplier<Map<String, float[]>> initialValues,
            Consumer<Params> build) {
        this(root, training, layout, initialValues, null, name -> true, build);
    }

    private DjlRun(NDManager root, TrainingSpec training, NetworkLayout layout,
            Supplier<Map<String, float[]>> initialValues, Supplier<SafeTensors> source, Predicate<String> fitted,
            Consumer<Params> build) {
        this.root = root;
        this.training = training;
        this.layout = layout;
        this.initialValues = initialValues;
        this.source = source;
        this.fitted = fitted;
        this.build = build;
    }

    /**
     * A run that fits part of a trained network: a new run starts from every tensor and counter of
     * {@code source} (a checkpoint's weights) with Adam's moments zero, and only the trainable tensors
     * whose names {@code fitted} accepts are fitted; the others stay as read.
     */
    static DjlRun fitting(NDManager root, TrainingSpec training, NetworkLayout layout, Supplier<SafeTensors> source,
            Predicate<String> fitted, Consumer<Params> build) {
        return new DjlRun(root, training, layout, null, source, fitted, build);
    }

    @Override
    public void start(SafeTensors resume, long steps) {
        if (resume != null) {
            params = Params.fromFile(root, layout, resume, fitted);
            build.accept(params);
            params.checkNoUnexpected(AdamUpdate::isMomentName);
            adam = new Adam(params, training.learningRate(), resume, steps);
        } else {
            params = source == null ? Params.initial(root, layout, initialValues.get())
                    : Params.fromFile(root, layout, source.get(), fitted);
            build.accept(params);
            adam = new Adam(params, training.learningRate(), null, 0);
        }
    }

    /** The current parameters. */
    Params params() {
        return params;
    }

    /**
     * One Adam step on the scalar {@code loss} (FLOAT32 or FLOAT64) computes with arrays in the given
     * scope; returns the loss.
     */
    double step(Function<NDManager, NDArray> loss) {
        try (NDManager scope = root.newSubManager()) {
            params.attachTo(scope);
            adam.attachTo(scope);
            double value;
            try (GradientCollector gc = root.getEngine().newGradientCollector()) {
                NDArray l = loss.apply(scope);
                gc.backward(l);
                value = l.getDataType() == DataType.FLOAT64 ? l.getDouble() : l.getFloat();
            }
            GradMode.off();
            adam.update();
            return value;
        }
    }

    @Override
    public long parameterCount() {
        return params.parameterCount();
    }

    @Override
    public long optimiserSteps() {
        return adam.steps();
    }

    @Override
    public List<SafeTensors.Entry> weights() {
        return params.entries();
    }

    @Override
    public List<SafeTensors.Entry> optimiserState() {
        return adam.entries();
    }

    @Override
    public void loadBest(SafeTensors best) {
        params.close();
        params = Params.fromFile(root, layout, best, fitted);
        build.accept(params);
    }

    @Override
    public void release() {
        if (params != null) {
            params.close();
        }
    }
}
