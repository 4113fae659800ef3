package io.vqdistill.distill.search;

import io.vqdistill.api.Backend;
import io.vqdistill.api.BackendSelector;
import io.vqdistill.api.model.LatentShape;
import io.vqdistill.api.model.Prior;
import io.vqdistill.api.search.BeamScoring;
import io.vqdistill.api.search.LatentSearch;
import io.vqdistill.api.search.LatentSet;
import io.vqdistill.api.search.ProgressListener;
import io.vqdistill.api.search.SearchOptions;
import io.vqdistill.api.search.SearchRequest;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.formats.SafeTensors;
import io.vqdistill.models.ModelLoader;
import io.vqdistill.models.checkpoint.Checkpoint;
import io.vqdistill.models.checkpoint.Provenance;
import io.vqdistill.models.layout.Parameter;
import io.vqdistill.models.layout.PixelCnnLayout;
import io.vqdistill.models.train.PriorSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The timing runner of the latent searches at full scale: a plain main, not a test, so the suite
 * never runs it. It needs an engine backend on the class path, which the engine-free distill module
 * does not have; run it against the cli's runtime libraries after
 * {@code mvn -B -ntp -q -pl cli -am -DskipTests package}:
 *
 * <pre>{@code
 * java -cp distill/target/test-classes:distill/target/classes:models/target/classes:api/target/classes:'cli/target/lib/*' \
 *     io.vqdistill.distill.search.SearchTiming backend=tensorflow prior=random search=beam n=16384
 * }</pre>
 *
 * Arguments, each {@code key=value}: {@code backend} (a backend name; default: the selector's
 * choice), {@code prior} ({@code random} for a randomly initialised default 10-layer {@link PriorSpec}
 * over a 4x4 grid, K = 512 and 10 classes with a uniform class prior, or a prior checkpoint folder),
 * {@code search} ({@code beam}, {@code random}, {@code top}), {@code n}, {@code seed},
 * {@code scoring} ({@code per-class} or {@code class-marginal}), {@code deterministic}
 * ({@code true}/{@code false}), {@code scores} ({@code false} for unscored grids), {@code threads}
 * (the engine's intra-op threads; 0 for its default), {@code progress} ({@code false} to hide the
 * progress lines), {@code repeats}; {@code search=micro} times single prior calls instead. Prints one
 * line per run with the wall time, the process's CPU time (all threads) and the
 * load average before and after; weights do not change the arithmetic, so the random prior times
 * the architecture (the random search finds fewer duplicates on it than on a trained prior).
 */
public final class SearchTiming {
    private SearchTiming() {
    }

    /** Runs the timings the arguments describe. */
    public static void main(String[] args) throws IOException {
        Map<String, String> a = new LinkedHashMap<>(Map.of("prior", "random", "search", "beam", "n", "16384",
                "seed", "1", "repeats", "1", "deterministic", "false", "scoring", "per-class"));
        for (String arg : args) {
            int eq = arg.indexOf('=');
            if (eq < 1) {
                throw new IllegalArgumentException("arguments are key=value, found '" + arg + "'");
            }
            a.put(arg.substring(0, eq), arg.substring(eq + 1));
        }
        try (Backend backend = BackendSelector.discover().select(a.get("backend"),
                new BackendOptions("auto", Integer.parseInt(a.getOrDefault("threads", "0"))),
                Set.of(ModelLoader.class))) {
            Path dir = a.get("prior").equals("random") ? randomPrior() : Path.of(a.get("prior"));
            try (Prior prior = backend.capability(ModelLoader.class).orElseThrow().loadPrior(dir)) {
                if (a.get("search").equals("micro")) {
                    micro(backend, prior, Integer.parseInt(a.get("n")));
                    return;
                }
                SearchOptions options = Options.of(a);
                LatentSearch search = switch (a.get("search")) {
                    case "beam" -> new BeamSearch(options);
                    case "random" -> new RandomSearch(options);
                    case "top" -> new TopSearch(options);
                    default -> throw new IllegalArgumentException("unknown search " + a.get("search"));
                };
                int n = Integer.parseInt(a.get("n"));
                for (int r = 0; r < Integer.parseInt(a.get("repeats")); r++) {
                    String before = load();
                    long t0 = System.nanoTime();
                    long c0 = cpu();
                    long[] lastDecile = {-1};
                    ProgressListener progress = (done, total) -> {
                        long decile = done * 10 / total;
                        if (decile != lastDecile[0] && Boolean.parseBoolean(a.getOrDefault("progress", "true"))) {
                            lastDecile[0] = decile;
                            System.out.printf(Locale.ROOT, "  progress %d / %d rows: %.1f s wall, %.1f s cpu%n", done,
                                    total, (System.nanoTime() - t0) / 1e9, (cpu() - c0) / 1e9);
                        }
                    };
                    LatentSet set = search.search(prior, SearchRequest.of(n, Long.parseLong(a.get("seed")))
                            .withProgress(progress));
                    double s = (System.nanoTime() - t0) / 1e9;
                    System.out.printf(Locale.ROOT, "%s backend=%s prior=%s %s n=%d: %.1f s wall, %.1f s cpu, %d distinct"
                                    + " grids, load before %s, after %s%n", search, backend.name(), a.get("prior"), a, n,
                            s, (cpu() - c0) / 1e9, set.distinctGrids(), before, load());
                }
            }
        }
    }

    /** The search options of the arguments; a separate class so that it can follow the options' API. */
    private static final class Options {
        static SearchOptions of(Map<String, String> a) {
            return SearchOptions.defaults().withStochastic(!Boolean.parseBoolean(a.get("deterministic")))
                    .withBeamScoring(a.get("scoring").equals("class-marginal") ? BeamScoring.CLASS_MARGINAL
                            : BeamScoring.PER_CLASS)
                    .withScoreGrids(Boolean.parseBoolean(a.getOrDefault("scores", "true")));
        }
    }

    /** Times single prior calls on {@code n} random grids: logProb, and nextLogProbs at a few positions. */
    private static void micro(Backend backend, Prior prior, int n) {
        LatentShape shape = prior.latentShape();
        java.util.SplittableRandom rng = new java.util.SplittableRandom(1);
        long[] codes = new long[n * shape.positions()];
        long[] classes = new long[n];
        for (int i = 0; i < codes.length; i++) {
            codes[i] = rng.nextInt(shape.codebookSize());
        }
        for (int i = 0; i < n; i++) {
            classes[i] = rng.nextInt(prior.numClasses());
        }
        for (int rep = 0; rep < 3; rep++) {
            try (io.vqdistill.api.TensorScope scope = io.vqdistill.api.TensorScope.open()) {
                io.vqdistill.api.Tensor g = backend.of(codes, n, shape.positions());
                io.vqdistill.api.Tensor c = backend.of(classes, n);
                long t0 = cpu();
                prior.logProb(g, c).toFloatArray();
                StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "n=%d cpu seconds: logProb %.3f", n,
                        (cpu() - t0) / 1e9));
                for (int pos : new int[] {0, 4, 8, 12, 15}) {
                    t0 = cpu();
                    prior.nextLogProbs(g, c, pos).toFloatArray();
                    line.append(String.format(Locale.ROOT, ", next@%d %.3f", pos, (cpu() - t0) / 1e9));
                    try (io.vqdistill.api.model.PrefixBatch batch = prior.prefixes(g, c, pos)) {
                        t0 = cpu();
                        batch.nextLogProbs(0, n).toFloatArray();
                        double first = (cpu() - t0) / 1e9;
                        t0 = cpu();
                        batch.nextLogProbs(0, n).toFloatArray();
                        line.append(String.format(Locale.ROOT, " (batch %.3f, again %.3f)", first, (cpu() - t0) / 1e9));
                    }
                }
                System.out.println(line + ", load " + load());
            }
        }
    }

    /** The CPU time of this process, every thread (the engines' native ones too), in nanoseconds. */
    static long cpu() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime();
    }

    /** The 1, 5 and 15 minute load averages. */
    private static String load() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException e) {
            return "?";
        }
    }

    /** A checkpoint of the default architecture over 4x4 grids, K = 512, 10 classes, randomly initialised. */
    private static Path randomPrior() throws IOException {
        PriorSpec spec = PriorSpec.defaults(new LatentShape(4, 4, 512), 10);
        PixelCnnLayout layout = new PixelCnnLayout(spec);
        float[] logPc = new float[10];
        Arrays.fill(logPc, (float) Math.log(0.1));
        Map<String, float[]> values = layout.initialValues(7, logPc);
        List<SafeTensors.Entry> entries = new ArrayList<>();
        for (Parameter p : layout.parameters()) {
            float[] v = values.get(p.name());
            if (v != null) {
                entries.add(SafeTensors.Entry.of(p.name(), v, p.shape()));
            }
        }
        Path dir = Files.createTempDirectory("timing-prior");
        dir.toFile().deleteOnExit();
        new Checkpoint(Checkpoint.KIND_PRIOR, spec.toJson(), Provenance.now(7, "random initialisation", "none",
                "none", 0, 0, Map.of()), Map.of()).write(dir, entries);
        return dir;
    }
}
