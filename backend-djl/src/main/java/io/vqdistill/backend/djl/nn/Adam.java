package io.vqdistill.backend.djl.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import io.vqdistill.api.DType;
import io.vqdistill.formats.SafeTensors;
import io.vqdistill.models.train.AdamUpdate;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@link AdamUpdate} over the trainable tensors of a {@link Params}, in DJL's in-place array
 * operations. Its moments are saved with a training run's resume state, so a resumed run continues
 * exactly where it stopped.
 */
final class Adam {
    private static final float BETA1 = (float) AdamUpdate.BETA1;
    private static final float BETA2 = (float) AdamUpdate.BETA2;
    private static final float ONE_MINUS_BETA1 = (float) (1 - AdamUpdate.BETA1);
    private static final float ONE_MINUS_BETA2 = (float) (1 - AdamUpdate.BETA2);
    private static final float EPS = (float) AdamUpdate.EPSILON;

    private final List<Params.Slot> params;
    private final List<NDArray> first = new ArrayList<>();
    private final List<NDArray> second = new ArrayList<>();
    private final double learningRate;
    private long step;

    /**
     * Moments for every trainable tensor of {@code params}, zero or read from {@code state} (a
     * resume file) when it is not null, in which case {@code steps} is the step count reached.
     */
    Adam(Params params, double learningRate, SafeTensors state, long steps) {
        this.params = params.trainable();
        this.learningRate = learningRate;
        this.step = steps;
        NDManager m = params.manager();
        for (Params.Slot s : this.params) {
            if (state == null) {
                first.add(m.zeros(s.array().getShape()));
                second.add(m.zeros(s.array().getShape()));
            } else {
                long[] shape = s.array().getShape().getShape();
                first.add(m.create(state.get(AdamUpdate.firstMomentName(s.name()), DType.FLOAT32, shape).toFloats(),
                        s.array().getShape()));
                second.add(m.create(state.get(AdamUpdate.secondMomentName(s.name()), DType.FLOAT32, shape).toFloats(),
                        s.array().getShape()));
            }
        }
    }

    /** Steps taken so far. */
    long steps() {
        return step;
    }

    /** Attaches the moments to {@code scope} until it closes (see {@link Params#attachTo}). */
    void attachTo(NDManager scope) {
        first.forEach(a -> a.tempAttach(scope));
        second.forEach(a -> a.tempAttach(scope));
    }

    /**
     * One update from the gradients accumulated on the parameters, which are then zeroed. Call
     * outside gradient recording, with parameters and moments attached to a scope that closes after.
     */
    void update() {
        step++;
        float c2 = (float) AdamUpdate.secondCorrection(step);
        float stepSize = (float) AdamUpdate.stepSize(learningRate, step);
        for (int i = 0; i < params.size(); i++) {
            NDArray p = params.get(i).array();
            NDArray g = p.getGradient();
            NDArray m = first.get(i);
            NDArray v = second.get(i);
            m.muli(BETA1).addi(g.mul(ONE_MINUS_BETA1));
            v.muli(BETA2).addi(g.square().muli(ONE_MINUS_BETA2));
            NDArray denom = v.div(c2).sqrt().addi(EPS);
            p.subi(m.div(denom).muli(stepSize));
            JniUtils.zeroGrad((PtNDArray) p);
        }
    }

    /** The moments as resume-file entries. */
    List<SafeTensors.Entry> entries() {
        List<SafeTensors.Entry> out = new ArrayList<>();
        for (int i = 0; i < params.size(); i++) {
            out.add(Params.entry(AdamUpdate.firstMomentName(params.get(i).name()), first.get(i)));
            out.add(Params.entry(AdamUpdate.secondMomentName(params.get(i).name()), second.get(i)));
        }
        return out;
    }
}
