package io.vqdistill.backend.djl.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import io.vqdistill.api.DType;
import io.vqdistill.formats.SafeTensors;
import java.util.ArrayList;
import java.util.List;

/**
 * Adam (Kingma and Ba, 2015) with PyTorch's defaults (beta1 0.9, beta2 0.999, eps 1e-8) over the
 * trainable tensors of a {@link Params}. Its moments are saved with a training run's resume state,
 * so a resumed run continues exactly where it stopped.
 */
final class Adam {
    /** Name prefix of the first moments in a resume file. */
    static final String FIRST = "adam.m.";
    /** Name prefix of the second moments in a resume file. */
    static final String SECOND = "adam.v.";

    private static final double BETA1 = 0.9;
    private static final double BETA2 = 0.999;
    private static final double EPS = 1e-8;

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
                first.add(m.create(state.get(FIRST + s.name(), DType.FLOAT32, shape).toFloats(), s.array().getShape()));
                second.add(m.create(state.get(SECOND + s.name(), DType.FLOAT32, shape).toFloats(),
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
        double c1 = 1 - Math.pow(BETA1, step);
        double c2 = 1 - Math.pow(BETA2, step);
        for (int i = 0; i < params.size(); i++) {
            NDArray p = params.get(i).array();
            NDArray g = p.getGradient();
            NDArray m = first.get(i);
            NDArray v = second.get(i);
            m.muli((float) BETA1).addi(g.mul((float) (1 - BETA1)));
            v.muli((float) BETA2).addi(g.square().muli((float) (1 - BETA2)));
            NDArray denom = v.div((float) c2).sqrt().addi((float) EPS);
            p.subi(m.div(denom).muli((float) (learningRate / c1)));
            JniUtils.zeroGrad((PtNDArray) p);
        }
    }

    /** The moments as resume-file entries. */
    List<SafeTensors.Entry> entries() {
        List<SafeTensors.Entry> out = new ArrayList<>();
        for (int i = 0; i < params.size(); i++) {
            out.add(Params.entry(FIRST + params.get(i).name(), first.get(i)));
            out.add(Params.entry(SECOND + params.get(i).name(), second.get(i)));
        }
        return out;
    }
}
