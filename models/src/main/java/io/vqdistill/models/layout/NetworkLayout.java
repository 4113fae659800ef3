package io.vqdistill.models.layout;

import io.vqdistill.api.InvalidArgumentException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The parameters of one network, declared once for every engine: each tensor's checkpoint name,
 * shape, role and initialiser, in the order PyTorch registers them in the equivalent module. The
 * portable inference reads a checkpoint by it, and each trainer creates its tensors and draws their
 * initial values from it, so checkpoints of every engine agree and a training run starts from the
 * same weights on every engine. Subclasses add the structure their forward pass walks.
 */
public abstract sealed class NetworkLayout permits VqVaeLayout, PixelCnnLayout, ClassifierLayout, CmLayout {
    /** The suffix of a module's weight (a table, a convolution's kernel, a BatchNorm's gamma). */
    private static final String WEIGHT = ".weight";
    /** The suffix of a module's bias (a convolution's, a BatchNorm's beta). */
    private static final String BIAS = ".bias";

    private final List<Parameter> parameters = new ArrayList<>();
    private final Map<String, Parameter> byName = new LinkedHashMap<>();

    NetworkLayout() {
    }

    /** Every tensor, in registration order (that of the checkpoint file and of the initial draws). */
    public final List<Parameter> parameters() {
        return Collections.unmodifiableList(parameters);
    }

    /** The trainable tensors, in registration order (that of the optimiser's moments). */
    public final List<Parameter> trainable() {
        return parameters.stream().filter(Parameter::trainable).toList();
    }

    /**
     * The initial values of every FLOAT32 tensor (counters start at 0 and are left out), in
     * registration order: one {@link SplittableRandom} seeded with {@code seed} draws the elements
     * of each random tensor in turn, row-major; constant and given tensors draw nothing. Every
     * engine starts a run from these values.
     *
     * @param given the values of the {@link Initialiser.Kind#GIVEN} tensors, by name
     * @throws InvalidArgumentException when a given tensor is missing from {@code given} or has
     *         the wrong number of values
     */
    protected final Map<String, float[]> initialValues(long seed, Map<String, float[]> given) {
        SplittableRandom rng = new SplittableRandom(seed);
        Map<String, float[]> out = new LinkedHashMap<>();
        for (Parameter p : parameters) {
            if (p.role() == Parameter.Role.COUNTER) {
                continue;
            }
            float[] v;
            if (p.init().kind() == Initialiser.Kind.GIVEN) {
                float[] g = given.get(p.name());
                if (g == null || g.length != p.size()) {
                    throw InvalidArgumentException.of(p.name(), g == null ? "nothing" : g.length + " values",
                            p.size() + " values for shape " + Arrays.toString(p.shape()));
                }
                v = g.clone();
            } else {
                v = new float[p.size()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = p.init().draw(rng);
                }
            }
            out.put(p.name(), v);
        }
        return out;
    }

    // ---- declaration: the only place where parameter names are composed ---------------------

    /** Declares one tensor. */
    final Parameter add(String name, Parameter.Role role, Initialiser init, long... shape) {
        Parameter p = new Parameter(name, shape, role, init);
        if (byName.putIfAbsent(name, p) != null) {
            throw new AssertionError("tensor name '" + name + "' declared twice");
        }
        parameters.add(p);
        return p;
    }

    /** A trainable table {@code name}.weight [rows, columns]. */
    final Parameter table(String name, int rows, int columns, Initialiser init) {
        return add(name + WEIGHT, Parameter.Role.TRAINABLE, init, rows, columns);
    }

    /** A fully connected layer {@code name}: weight [out, in] and bias [out], PyTorch's default initialisation. */
    final LinearLayer linear(String name, int in, int out) {
        Initialiser init = Initialiser.fanIn(in);
        return new LinearLayer(add(name + WEIGHT, Parameter.Role.TRAINABLE, init, out, in),
                add(name + BIAS, Parameter.Role.TRAINABLE, init, out), in, out);
    }

    /** A square convolution with no mask. */
    final ConvLayer conv(String name, int in, int out, int k, int stride, int padding) {
        return conv(name, in, out, k, k, stride, padding, padding, null);
    }

    /** A convolution {@code name}: weight [out, in, kH, kW] and bias [out], PyTorch's default initialisation. */
    final ConvLayer conv(String name, int in, int out, int kH, int kW, int stride, int padH, int padW, float[] mask) {
        Initialiser init = Initialiser.fanIn((long) in * kH * kW);
        return new ConvLayer(add(name + WEIGHT, Parameter.Role.TRAINABLE, init, out, in, kH, kW),
                add(name + BIAS, Parameter.Role.TRAINABLE, init, out), in, out, kH, kW, stride, padH, padW, mask);
    }

    /**
     * A transposed convolution {@code name}: weight [in, out, k, k] and bias [out], PyTorch's default
     * initialisation (its fan-in is the weight's second dimension times the kernel area).
     */
    final ConvTransposeLayer convTranspose(String name, int in, int out, int k, int stride, int padding,
            int outputPadding) {
        if (padding < 0 || padding >= k || outputPadding < 0 || outputPadding >= stride) {
            throw new AssertionError(name + ": padding " + padding + " and output padding " + outputPadding
                    + " do not fit kernel " + k + " and stride " + stride);
        }
        Initialiser init = Initialiser.fanIn((long) out * k * k);
        return new ConvTransposeLayer(add(name + WEIGHT, Parameter.Role.TRAINABLE, init, in, out, k, k),
                add(name + BIAS, Parameter.Role.TRAINABLE, init, out), in, out, k, stride, padding, outputPadding);
    }

    /** The residual block {@code name} over {@code c} channels: {@code name}.conv1, .bn1, .conv2, .bn2. */
    final ResidualLayer residual(String name, int c) {
        return new ResidualLayer(conv(name + ".conv1", c, c, 3, 1, 1), batchNorm(name + ".bn1", c),
                conv(name + ".conv2", c, c, 1, 1, 0), batchNorm(name + ".bn2", c));
    }

    /** A BatchNorm {@code name} over {@code channels}. */
    final BatchNormLayer batchNorm(String name, int channels) {
        return new BatchNormLayer(
                add(name + WEIGHT, Parameter.Role.TRAINABLE, Initialiser.constant(1), channels),
                add(name + BIAS, Parameter.Role.TRAINABLE, Initialiser.constant(0), channels),
                add(name + ".running_mean", Parameter.Role.BUFFER, Initialiser.constant(0), channels),
                add(name + ".running_var", Parameter.Role.BUFFER, Initialiser.constant(1), channels),
                add(name + ".num_batches_tracked", Parameter.Role.COUNTER, Initialiser.constant(0)),
                channels);
    }
}
