package io.vqdistill.distill;

import io.vqdistill.circuits.ShallowMixture;
import io.vqdistill.circuits.io.CircuitFiles;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A distilled mixture and how it was made.
 *
 * @param mixture       the mixture, owned by this record: {@link #close()} releases it
 * @param provenance    facts for {@code circuit.json} (components, grid shape, weighting, leaf family,
 *                      EM statistics)
 * @param emLogLikelihoods the mean log-likelihood of the EM data in nats before each weight update
 *                      and after the last one; empty without EM
 */
public record Distillation(ShallowMixture mixture, Map<String, String> provenance, double[] emLogLikelihoods)
        implements AutoCloseable {
    /** Validates and copies. */
    public Distillation {
        Objects.requireNonNull(mixture, "mixture");
        provenance = Collections.unmodifiableMap(new LinkedHashMap<>(provenance));
        emLogLikelihoods = emLogLikelihoods.clone();
    }

    @Override
    public double[] emLogLikelihoods() {
        return emLogLikelihoods.clone();
    }

    /**
     * Writes the mixture in the circuits file format into folder {@code dir}, with this record's
     * provenance and {@code extra} facts (seed, search, data), which win on equal keys.
     */
    public void save(Path dir, Map<String, String> extra) {
        save(dir, extra, 0);
    }

    /**
     * Writes the mixture as {@link #save(Path, Map)} does, recording that its latents' class tags come
     * from the {@code numClasses} classes of the prior they were searched under (readers then check
     * every tag against it).
     *
     * @param numClasses the prior's class count; 0 when unknown (nothing is recorded)
     */
    public void save(Path dir, Map<String, String> extra, int numClasses) {
        Objects.requireNonNull(dir, "dir");
        Map<String, String> all = new LinkedHashMap<>(provenance);
        all.putAll(extra);
        CircuitFiles.write(dir, mixture, all, numClasses);
    }

    /** Releases the mixture. */
    @Override
    public void close() {
        mixture.close();
    }
}
