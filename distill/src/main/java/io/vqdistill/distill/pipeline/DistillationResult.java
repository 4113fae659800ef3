package io.vqdistill.distill.pipeline;

import java.nio.file.Path;

/**
 * What {@link DistillationPipeline} made and how long it took.
 *
 * @param search         what the search returned
 * @param weighting      the weighting's name, e.g. {@code uniform}
 * @param components     the mixture's components
 * @param parameters     the mixture's free parameters, as {@code Circuit.parameterCount()}
 * @param leafFamily     the leaf family's name, e.g. {@code gaussian}
 * @param json           the circuit's JSON file written
 * @param tensors        the circuit's tensor file written
 * @param distillSeconds wall time of decoding, building (and EM) and saving
 */
public record DistillationResult(SearchOutcome search, String weighting, int components, long parameters,
                                 String leafFamily, Path json, Path tensors, double distillSeconds) {
}
