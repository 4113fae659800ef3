package io.vqdistill.models.layout;

import java.util.Arrays;

/**
 * One tensor of a network's state dict: its checkpoint name (PyTorch's), its shape in PyTorch's
 * layout, what it is and how a training run initialises it.
 *
 * @param name  the name in {@code weights.safetensors}, e.g. {@code encoder.down.0.conv.weight}
 * @param shape the shape; empty for a scalar
 * @param role  trained, a FLOAT32 buffer, or an INT64 counter
 * @param init  the initial values of a training run (a counter starts at 0)
 */
public record Parameter(String name, long[] shape, Role role, Initialiser init) {

    /** What a tensor is to the optimiser and the checkpoint. */
    public enum Role {
        /** A FLOAT32 tensor updated by Adam. */
        TRAINABLE,
        /** A FLOAT32 tensor not trained by gradients (BatchNorm running statistics, the class prior). */
        BUFFER,
        /** An INT64 scalar counter (BatchNorm's {@code num_batches_tracked}). */
        COUNTER
    }

    /** Copies the shape. */
    public Parameter {
        shape = shape.clone();
    }

    /** A copy of the shape. */
    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Number of elements. */
    public int size() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return Math.toIntExact(n);
    }

    /** True for a {@link Role#TRAINABLE} tensor. */
    public boolean trainable() {
        return role == Role.TRAINABLE;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Parameter p && name.equals(p.name) && Arrays.equals(shape, p.shape) && role == p.role
                && init.equals(p.init);
    }

    @Override
    public int hashCode() {
        return name.hashCode();
    }

    @Override
    public String toString() {
        return name + Arrays.toString(shape) + " " + role + " " + init;
    }
}
