package io.vqdistill.api;

/**
 * An optional feature a {@link Backend} declares up front, such as training or an extra family of
 * tensor operations. Callers ask {@link Backend#capability(Class)} before they start work, so a
 * missing feature is known at selection time and never surfaces as a failure half-way through.
 */
public interface Capability {
    /** A short stable name shown by {@code vqdistill backends}, e.g. {@code train}. */
    String capabilityName();
}
