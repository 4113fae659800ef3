package io.vqdistill.api.search;

import io.vqdistill.api.InvalidArgumentException;
import java.util.Objects;

/**
 * The tunable settings of the shipped latent searches. Bind an instance with Guice to change them
 * for every strategy of an injector (see {@code SearchModule}); the defaults follow the paper.
 * The command line's {@code distill} and {@code sweep} set five of them per run: {@code --beam-starts},
 * {@code --beam-width}, {@code --beam-scoring per-class|class-marginal}, {@code --top-width-factor} and
 * {@code --random-classes uniform|prior}.
 *
 * @param beamStarts           s, the distinct starting codes per class of the class-conditioned beam
 *                             search (the paper uses 10, the authors' code 16), >= 1
 * @param stochastic           true for the stochastic beam search (Gumbel-top-k sampling without
 *                             replacement), false for the deterministic one
 * @param attemptsPerGrid      the random search stops after {@code attemptsPerGrid * N} ancestral
 *                             draws, >= 1
 * @param samplingBatch        the fewest grids the random search draws per batch, >= 1; it draws more
 *                             at once (up to the block bound) when more are still needed. Each grid is
 *                             drawn from its own random stream, so the result depends on neither the
 *                             batches nor N: every prefix of a result is the result of a smaller request
 * @param topWidthFactor       the {@code top} search keeps {@code topWidthFactor * N} prefixes per
 *                             position, >= 1; larger is closer to the exact top-N
 * @param maxBlockElements     the largest [rows, K] block of log-probabilities requested from the
 *                             prior in one call, >= 1; a beam whose rows times K exceed it is split
 *                             into several calls per position
 * @param enumerationChunk     grids scored per prior call when enumerating or scoring found grids, >= 1
 * @param maxEnumeratedGrids   the largest number of grids an exhaustive search may enumerate, >= 1
 * @param beamScoring          how the beam search ranks a class's candidates: by that class's own
 *                             log p(z_&lt;=i | c) (the paper, the default) or by the class-marginal p(z_&lt;=i)
 * @param beamWidth            B, the width of every (class, start) beam of the beam search; 0 (the
 *                             default) for the paper's B = N / (s |C|), the beam's share of the result.
 *                             A width above the share searches wider and keeps the share's best; one
 *                             below it is raised to it, since a beam returns at most its width. >= 0
 * @param randomClasses        the distribution the random search draws classes from: uniform (the
 *                             paper, the default) or the prior's p(c)
 * @param scoreGrids           true (the default) to return every grid's class-marginal log p(z),
 *                             which costs |C| whole-grid prior evaluations per grid (more than the
 *                             per-class beam search or the random draws themselves); false to leave
 *                             the scores of the {@code beam} and {@code random} searches NaN (unknown),
 *                             enough for uniform weights but not for prior weights
 */
public record SearchOptions(int beamStarts, boolean stochastic, int attemptsPerGrid, int samplingBatch,
                            int topWidthFactor, long maxBlockElements, int enumerationChunk,
                            long maxEnumeratedGrids, BeamScoring beamScoring, int beamWidth,
                            RandomClasses randomClasses, boolean scoreGrids) {
    /** The paper's s. */
    public static final int DEFAULT_BEAM_STARTS = 10;
    /** Default draws per requested grid before the random search gives up. */
    public static final int DEFAULT_ATTEMPTS_PER_GRID = 100;
    /** Default smallest random-search batch. */
    public static final int DEFAULT_SAMPLING_BATCH = 256;
    /** Default block: 2^22 elements, 16 MiB of float32 log-probabilities. */
    public static final long DEFAULT_MAX_BLOCK_ELEMENTS = 1L << 22;
    /** Default enumeration chunk. */
    public static final int DEFAULT_ENUMERATION_CHUNK = 4096;
    /** Default enumeration bound: 2^26 grids (K = 90 on a 2x2 grid). */
    public static final long DEFAULT_MAX_ENUMERATED_GRIDS = 1L << 26;
    /** The beam width that means the paper's N / (s |C|). */
    public static final int AUTOMATIC_BEAM_WIDTH = 0;

    /** Validates the settings. */
    public SearchOptions {
        requirePositive("beamStarts", beamStarts);
        requirePositive("attemptsPerGrid", attemptsPerGrid);
        requirePositive("samplingBatch", samplingBatch);
        requirePositive("topWidthFactor", topWidthFactor);
        requirePositive("maxBlockElements", maxBlockElements);
        requirePositive("enumerationChunk", enumerationChunk);
        requirePositive("maxEnumeratedGrids", maxEnumeratedGrids);
        Objects.requireNonNull(beamScoring, "beamScoring");
        Objects.requireNonNull(randomClasses, "randomClasses");
        if (beamWidth < 0) {
            throw new InvalidArgumentException("beamWidth must be >= 0 (0 for N / (s |C|)), found " + beamWidth);
        }
    }

    /**
     * The settings of the first eight components, with the defaults of the others: per-class beam
     * scoring, the automatic beam width, uniform random classes and scored grids.
     */
    public SearchOptions(int beamStarts, boolean stochastic, int attemptsPerGrid, int samplingBatch,
                         int topWidthFactor, long maxBlockElements, int enumerationChunk, long maxEnumeratedGrids) {
        this(beamStarts, stochastic, attemptsPerGrid, samplingBatch, topWidthFactor, maxBlockElements,
                enumerationChunk, maxEnumeratedGrids, BeamScoring.PER_CLASS, AUTOMATIC_BEAM_WIDTH,
                RandomClasses.UNIFORM, true);
    }

    private static void requirePositive(String name, long value) {
        if (value < 1) {
            throw new InvalidArgumentException(name + " must be >= 1, found " + value);
        }
    }

    /**
     * The defaults: s = 10, stochastic beam ranked per class with the width N / (s |C|), uniform
     * random classes, 100 draws per grid, batches of at least 256, top width N.
     */
    public static SearchOptions defaults() {
        return new SearchOptions(DEFAULT_BEAM_STARTS, true, DEFAULT_ATTEMPTS_PER_GRID, DEFAULT_SAMPLING_BATCH, 1,
                DEFAULT_MAX_BLOCK_ELEMENTS, DEFAULT_ENUMERATION_CHUNK, DEFAULT_MAX_ENUMERATED_GRIDS);
    }

    /** These options with {@code beamStarts} replaced. */
    public SearchOptions withBeamStarts(int value) {
        return new SearchOptions(value, stochastic, attemptsPerGrid, samplingBatch, topWidthFactor, maxBlockElements,
                enumerationChunk, maxEnumeratedGrids, beamScoring, beamWidth, randomClasses, scoreGrids);
    }

    /** These options with {@code stochastic} replaced. */
    public SearchOptions withStochastic(boolean value) {
        return new SearchOptions(beamStarts, value, attemptsPerGrid, samplingBatch, topWidthFactor, maxBlockElements,
                enumerationChunk, maxEnumeratedGrids, beamScoring, beamWidth, randomClasses, scoreGrids);
    }

    /** These options with {@code attemptsPerGrid} replaced. */
    public SearchOptions withAttemptsPerGrid(int value) {
        return new SearchOptions(beamStarts, stochastic, value, samplingBatch, topWidthFactor, maxBlockElements,
                enumerationChunk, maxEnumeratedGrids, beamScoring, beamWidth, randomClasses, scoreGrids);
    }

    /** These options with {@code samplingBatch} replaced. */
    public SearchOptions withSamplingBatch(int value) {
        return new SearchOptions(beamStarts, stochastic, attemptsPerGrid, value, topWidthFactor, maxBlockElements,
                enumerationChunk, maxEnumeratedGrids, beamScoring, beamWidth, randomClasses, scoreGrids);
    }

    /** These options with {@code topWidthFactor} replaced. */
    public SearchOptions withTopWidthFactor(int value) {
        return new SearchOptions(beamStarts, stochastic, attemptsPerGrid, samplingBatch, value, maxBlockElements,
                enumerationChunk, maxEnumeratedGrids, beamScoring, beamWidth, randomClasses, scoreGrids);
    }

    /** These options with {@code maxBlockElements} replaced. */
    public SearchOptions withMaxBlockElements(long value) {
        return new SearchOptions(beamStarts, stochastic, attemptsPerGrid, samplingBatch, topWidthFactor, value,
                enumerationChunk, maxEnumeratedGrids, beamScoring, beamWidth, randomClasses, scoreGrids);
    }

    /** These options with {@code enumerationChunk} replaced. */
    public SearchOptions withEnumerationChunk(int value) {
        return new SearchOptions(beamStarts, stochastic, attemptsPerGrid, samplingBatch, topWidthFactor,
                maxBlockElements, value, maxEnumeratedGrids, beamScoring, beamWidth, randomClasses, scoreGrids);
    }

    /** These options with {@code maxEnumeratedGrids} replaced. */
    public SearchOptions withMaxEnumeratedGrids(long value) {
        return new SearchOptions(beamStarts, stochastic, attemptsPerGrid, samplingBatch, topWidthFactor,
                maxBlockElements, enumerationChunk, value, beamScoring, beamWidth, randomClasses, scoreGrids);
    }

    /** These options with {@code beamScoring} replaced. */
    public SearchOptions withBeamScoring(BeamScoring value) {
        return new SearchOptions(beamStarts, stochastic, attemptsPerGrid, samplingBatch, topWidthFactor,
                maxBlockElements, enumerationChunk, maxEnumeratedGrids, value, beamWidth, randomClasses, scoreGrids);
    }

    /** These options with {@code beamWidth} replaced (0 for the paper's N / (s |C|)). */
    public SearchOptions withBeamWidth(int value) {
        return new SearchOptions(beamStarts, stochastic, attemptsPerGrid, samplingBatch, topWidthFactor,
                maxBlockElements, enumerationChunk, maxEnumeratedGrids, beamScoring, value, randomClasses, scoreGrids);
    }

    /** These options with {@code scoreGrids} replaced. */
    public SearchOptions withScoreGrids(boolean value) {
        return new SearchOptions(beamStarts, stochastic, attemptsPerGrid, samplingBatch, topWidthFactor,
                maxBlockElements, enumerationChunk, maxEnumeratedGrids, beamScoring, beamWidth, randomClasses, value);
    }

    /** These options with {@code randomClasses} replaced. */
    public SearchOptions withRandomClasses(RandomClasses value) {
        return new SearchOptions(beamStarts, stochastic, attemptsPerGrid, samplingBatch, topWidthFactor,
                maxBlockElements, enumerationChunk, maxEnumeratedGrids, beamScoring, beamWidth, value, scoreGrids);
    }
}
