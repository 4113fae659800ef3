package io.vqdistill.backend.djl.nn;

import ai.djl.pytorch.jni.JniUtils;

/**
 * PyTorch's gradient recording is a per-thread switch that is on by default in every thread but
 * the one that loaded the engine. Inference and evaluation switch it off first, so they build no
 * autograd graph whatever thread they run on.
 */
final class GradMode {
    private GradMode() {
    }

    /** Turns gradient recording off on the current thread. */
    static void off() {
        JniUtils.setGradMode(false);
    }
}
