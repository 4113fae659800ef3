package io.vqdistill.distill.pipeline;

import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.models.data.ImageSet;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * What {@link Refinement} refits: a saved mixture, the images EM fits it on and the held-out images
 * that choose the setting and stop it, and the folder the refined circuit goes to.
 *
 * @param circuit    the folder of the saved shallow mixture to start from
 * @param train      the images EM fits the mixture on (the training images)
 * @param validation the held-out images that choose the floor and the epoch kept, never the test images
 * @param epochs     at most this many full-batch EM updates, >= 0 (0 applies the floor only)
 * @param floors     Gaussian leaves: the candidate floors on the standard deviation, each in (0, 1]
 * @param shrinkages Gaussian leaves: the candidate strengths of the variances' shrinkage towards the data's
 *                   per-pixel variance, each finite and >= 0 (0: none); every floor is refined with every
 *                   strength and the pair best on the validation images after EM is kept
 * @param smoothing  categorical leaves: the Dirichlet pseudo-count, > 0
 * @param patience   EM stops after this many updates in a row that do not improve the validation
 *                   log-likelihood, >= 1
 * @param seed       the seed of the dequantisation noise of the training images (fixed for every update,
 *                   so that full-batch EM never lowers their log-likelihood)
 * @param out        the circuit folder to write
 * @param state      the folder the refinement's progress is saved to after every EM update and continued
 *                   from when it holds a state ({@link RefinementState}), deleted when the refinement ends;
 *                   null to keep nothing
 */
public record RefinementRequest(Path circuit, ImageSet train, ImageSet validation, int epochs, List<Double> floors,
                                List<Double> shrinkages, double smoothing, int patience, long seed, Path out,
                                Path state) {
    /** Validates and copies. */
    public RefinementRequest {
        Objects.requireNonNull(circuit, "circuit");
        Objects.requireNonNull(train, "train");
        Objects.requireNonNull(validation, "validation");
        Objects.requireNonNull(out, "out");
        floors = List.copyOf(floors);
        shrinkages = List.copyOf(shrinkages);
        if (epochs < 0) {
            throw InvalidArgumentException.of("epochs", epochs, ">= 0");
        }
        if (floors.isEmpty()) {
            throw InvalidArgumentException.of("floors", floors, "at least one floor");
        }
        for (double f : floors) {
            if (!(f > 0 && f <= 1)) {
                throw InvalidArgumentException.of("floor", f, "in (0, 1]");
            }
        }
        if (shrinkages.isEmpty()) {
            throw InvalidArgumentException.of("shrinkages", shrinkages, "at least one strength");
        }
        for (double a : shrinkages) {
            if (!(a >= 0) || Double.isInfinite(a)) {
                throw InvalidArgumentException.of("shrinkage", a, "finite and >= 0");
            }
        }
        if (!(smoothing > 0) || Double.isInfinite(smoothing)) {
            throw InvalidArgumentException.of("smoothing", smoothing, "finite and > 0");
        }
        if (patience < 1) {
            throw InvalidArgumentException.of("patience", patience, ">= 1");
        }
        if (state != null && state.toAbsolutePath().normalize().equals(out.toAbsolutePath().normalize())) {
            throw new InvalidArgumentException("the refinement state " + state + " must be another folder than the"
                    + " output " + out);
        }
        if (train.size() < 1 || validation.size() < 1) {
            throw new InvalidArgumentException("EM needs training and validation images, found " + train.size()
                    + " and " + validation.size());
        }
    }
}
