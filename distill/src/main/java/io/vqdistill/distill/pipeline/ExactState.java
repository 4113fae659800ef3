package io.vqdistill.distill.pipeline;

import io.vqdistill.api.DType;
import io.vqdistill.api.FormatException;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.distill.ExactModel;
import io.vqdistill.formats.FileKind;
import io.vqdistill.formats.SafeTensors;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The saved partial sum of an exact-model evaluation, so that a killed run continues where it stopped:
 * one safetensors file holding {@code log_sums} (FLOAT64 [images], the per-image log-sum-exp over the
 * grids summed so far) and, as metadata, the format, the number of grids summed and what the sum is
 * of (the {@code identity}: the checkpoints' digests, the images, the seed, the chunking, the
 * precision, the number of grids). Every commit replaces the file atomically. A state whose identity
 * differs from the run's is refused, naming the first field that differs.
 */
public final class ExactState {
    /** The {@code format} metadata value. */
    public static final String FORMAT = "vqdistill.exact-state/1";
    /** The tensor of the partial sums. */
    public static final String LOG_SUMS = "log_sums";
    private static final String FORMAT_KEY = "format";
    private static final String GRIDS_DONE = "grids_done";

    private final Path file;
    private final TreeMap<String, String> identity;

    /**
     * @param file     the state file
     * @param identity what the sum is of, field by field (checked on resume, in the fields' order)
     */
    public ExactState(Path file, Map<String, String> identity) {
        this.file = Objects.requireNonNull(file, "file");
        this.identity = new TreeMap<>(identity);
        for (String key : identity.keySet()) {
            if (key.equals(FORMAT_KEY) || key.equals(GRIDS_DONE)) {
                throw new InvalidArgumentException("identity field '" + key + "' is reserved");
            }
        }
    }

    /** The state file. */
    public Path file() {
        return file;
    }

    /**
     * The partial sum to continue from: the saved one when the file exists, else a new sum over
     * {@code examples} examples.
     *
     * @throws InvalidArgumentException when the file was made for another sum, naming the field, its
     *                                  saved value and this run's
     * @throws FormatException          when the file is not a readable state
     */
    public ExactModel.Partial resume(int examples) {
        if (!Files.exists(file)) {
            return ExactModel.Partial.start(examples);
        }
        SafeTensors st = readMatching();
        long done = done(st.metadata());
        double[] logSums = st.get(LOG_SUMS, DType.FLOAT64, examples).toDoubles();
        for (int i = 0; i < logSums.length; i++) {
            if (Double.isNaN(logSums[i]) || logSums[i] == Double.POSITIVE_INFINITY) {
                throw new FormatException(file + ": field " + LOG_SUMS + "[" + i + "]: expected a log-sum, found "
                        + logSums[i]);
            }
        }
        return new ExactModel.Partial(done, logSums);
    }

    /**
     * Refuses a saved state made for another sum, as {@link #resume} does, without reading its partial
     * sums; nothing to check when the file does not exist yet. For the fields known before the models
     * load, so that a mismatch is refused before loading them.
     *
     * @throws InvalidArgumentException when the file was made for another sum, naming the field, its
     *                                  saved value and this run's
     * @throws FormatException          when the file is not a readable state
     */
    public void check() {
        if (Files.exists(file)) {
            readMatching();
        }
    }

    /** The existing state file, read, once its format and identity are checked. */
    private SafeTensors readMatching() {
        FileKind.rejectSpecial(file);
        SafeTensors st = SafeTensors.read(file);
        Map<String, String> saved = st.metadata();
        if (!FORMAT.equals(saved.get(FORMAT_KEY))) {
            throw new FormatException(file + ": field " + FORMAT_KEY + ": expected '" + FORMAT + "', found "
                    + (saved.containsKey(FORMAT_KEY) ? "'" + saved.get(FORMAT_KEY) + "'" : "none")
                    + "; not an exact-model state");
        }
        for (Map.Entry<String, String> e : identity.entrySet()) {
            String was = saved.get(e.getKey());
            if (!e.getValue().equals(was)) {
                throw new InvalidArgumentException("the exact-model state " + file + " was made with " + e.getKey()
                        + " = " + (was == null ? "(none)" : was) + ", but this run has " + e.getKey() + " = "
                        + e.getValue() + "; run with the same options, or remove the state to start again");
            }
        }
        return st;
    }

    private long done(Map<String, String> saved) {
        long done;
        try {
            done = Long.parseLong(saved.getOrDefault(GRIDS_DONE, ""));
        } catch (NumberFormatException e) {
            throw new FormatException(file + ": field " + GRIDS_DONE + ": expected a count of grids, found '"
                    + saved.get(GRIDS_DONE) + "'", e);
        }
        if (done < 0) {
            throw new FormatException(file + ": field " + GRIDS_DONE + ": must be >= 0, found " + done);
        }
        return done;
    }

    /** Replaces the state file, atomically, by {@code partial}. */
    public void commit(ExactModel.Partial partial) {
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put(FORMAT_KEY, FORMAT);
        metadata.put(GRIDS_DONE, Long.toString(partial.grids()));
        metadata.putAll(identity);
        double[] logSums = partial.logSums();
        SafeTensors.write(file, List.of(SafeTensors.Entry.of(LOG_SUMS, logSums, logSums.length)), metadata);
    }
}
