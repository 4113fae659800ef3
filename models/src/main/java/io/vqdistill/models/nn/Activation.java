package io.vqdistill.models.nn;

/** Elementwise activations of {@link NetworkOps#activation(Activation, io.vqdistill.api.Tensor)}. */
public enum Activation {
    /** max(x, 0). */
    RELU,
    /** 1 / (1 + e^-x). */
    SIGMOID,
    /** The hyperbolic tangent. */
    TANH
}
