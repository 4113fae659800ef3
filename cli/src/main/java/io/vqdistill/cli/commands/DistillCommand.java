package io.vqdistill.cli;

import io.vqdistill.api.Backend;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.model.Decoder;
import io.vqdistill.api.model.Prior;
import io.vqdistill.api.search.LatentSearch;
import io.vqdistill.api.search.LatentSet;
import io.vqdistill.api.search.SearchRequest;
import io.vqdistill.circuits.io.CircuitFiles;
import io.vqdistill.distill.Distillation;
import io.vqdistill.distill.Distiller;
import io.vqdistill.distill.Weighting;
import io.vqdistill.distill.eval.PixelEncoding;
import io.vqdistill.models.ModelLoader;
import io.vqdistill.models.data.ImageSet;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/**
 * {@code vqdistill distill}: selects N code grids with a named latent search on the prior, decodes
 * them into the components of a shallow mixture and saves it in the circuits file format.
 */
@Command(name = "distill", mixinStandardHelpOptions = true,
        description = "Distils a VQ-VAE and its prior into a shallow mixture circuit: the named latent search "
            + "selects N grids, each is decoded once into its pixel leaves, and the mixture is saved as "
            + "OUT/circuit.json and OUT/circuit.safetensors. Prints the search and distillation wall times.")
final class DistillCommand implements Callable<Integer> {
    /** The largest --components accepted. */
    static final int MAX_COMPONENTS = 1 << 20;
    /** The weighting names. */
    static final String WEIGHTINGS = "uniform, prior or em";
    /** Seeds the dequantisation noise of the EM images. */
    private static final long EM_NOISE_SEED = 11;

    @Mixin
    BackendOptionsMixin backendOptions;

    @Mixin
    MixtureOptions mixture;

    @Mixin
    DataOptions dataOptions;

    @Option(names = "--components", paramLabel = "N", required = true,
            description = "N, the number of grids (mixture components), 1.." + MAX_COMPONENTS)
    int components;

    @Option(names = "--weights", paramLabel = "W", defaultValue = "uniform",
            description = "component weights: uniform (1/N), prior (proportional to p(z)) or em (re-estimated on "
                + "training images with the leaves fixed) (default: ${DEFAULT-VALUE})")
    String weights;

    @Option(names = "--em-images", paramLabel = "N", defaultValue = "10000",
            description = "training images EM fits the weights on (default: ${DEFAULT-VALUE})")
    int emImages;

    @Option(names = "--em-iterations", paramLabel = "N", defaultValue = "20",
            description = "at most this many EM updates (default: ${DEFAULT-VALUE})")
    int emIterations;

    @Option(names = "--out", paramLabel = "DIR", required = true, description = "the circuit folder to write")
    Path out;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /**
     * Timings and size of one distillation.
     *
     * @param grids          grids the search returned
     * @param searchSeconds  wall time of the search
     * @param distillSeconds wall time of decoding, building (and EM) and saving
     */
    record Result(int grids, double searchSeconds, double distillSeconds) {
    }

    @Override
    public Integer call() {
        checkComponents(components);
        LatentSearch strategy = mixture.strategy();
        checkWeights(weights);
        PrintWriter w = spec.commandLine().getOut();
        try (Backend backend = backendOptions.injector(ModelLoader.class).getInstance(Backend.class)) {
            ModelLoader loader = Capabilities.require(backend, ModelLoader.class, "load networks");
            ModelPaths models = mixture.models;
            try (Decoder raw = loader.loadDecoder(models.vqvae); Prior p = loader.loadPrior(models.prior)) {
                Decoder decoder = mixture.leaves(raw);
                Map<String, String> extra = new LinkedHashMap<>();
                if (mixture.minStd != null) {
                    extra.put("min_std", Double.toString(mixture.minStd));
                }
                extra.put("vqvae", models.vqvae.toAbsolutePath().normalize().toString());
                extra.put("prior", models.prior.toAbsolutePath().normalize().toString());
                run(w, backend, decoder, p, strategy, components, mixture.seed, weights,
                        "em".equals(weights) ? dataOptions.split().train() : null, emImages, emIterations, out, extra);
            }
        }
        return 0;
    }

    /** @throws IllegalArgumentException when N is outside 1..{@value #MAX_COMPONENTS}, naming it */
    static void checkComponents(int n) {
        if (n < 1 || n > MAX_COMPONENTS) {
            throw new IllegalArgumentException("--components must be in [1, " + MAX_COMPONENTS + "], found " + n);
        }
    }

    /** @throws IllegalArgumentException for an unknown weighting, naming it */
    static void checkWeights(String name) {
        if (!name.equals("uniform") && !name.equals("prior") && !name.equals("em")) {
            throw new IllegalArgumentException("unknown --weights '" + name + "'; known: " + WEIGHTINGS);
        }
    }

    /**
     * Searches, distils and saves, printing what it did.
     *
     * @param train the images EM fits weights on; only read when {@code weights} is em
     * @param extra provenance added to the circuit's
     */
    static Result run(PrintWriter w, Backend backend, Decoder decoder, Prior prior, LatentSearch strategy,
                      int components, long seed, String weights, ImageSet train, int emImages, int emIterations,
                      Path out, Map<String, String> extra) {
        long t0 = System.nanoTime();
        LatentSet latents = strategy.search(prior, SearchRequest.of(components, seed));
        double searchSeconds = (System.nanoTime() - t0) / 1e9;
        w.printf(Locale.ROOT, "search %s: %d grids (%d distinct) of %s in %.2f s%n", strategy.name(), latents.size(),
                latents.distinctGrids(), latents.shape(), searchSeconds);
        w.flush();
        long t1 = System.nanoTime();
        Tensor emData = null;
        try {
            Weighting weighting = switch (weights) {
                case "uniform" -> Weighting.uniform();
                case "prior" -> Weighting.prior();
                default -> {
                    emData = emData(backend, decoder, train, emImages);
                    yield Weighting.em(emData, emIterations, 1e-4);
                }
            };
            Map<String, String> provenance = new LinkedHashMap<>(extra);
            provenance.put("search", strategy.name());
            provenance.put("seed", Long.toString(seed));
            provenance.put("search_seconds", String.format(Locale.ROOT, "%.3f", searchSeconds));
            try (Distillation d = new Distiller(backend, decoder).distil(latents, weighting)) {
                d.save(out, provenance);
                double distillSeconds = (System.nanoTime() - t1) / 1e9;
                w.printf(Locale.ROOT, "distillation (%s weights): %d components, %,d parameters, %s leaves in %.2f s%n",
                        weighting, d.mixture().components(), d.mixture().parameterCount(), d.mixture().leafFamily()
                                .name(), distillSeconds);
                w.printf("wrote %s and %s%n", out.resolve(CircuitFiles.JSON), out.resolve(CircuitFiles.TENSORS));
                w.flush();
                return new Result(latents.size(), searchSeconds, distillSeconds);
            }
        } finally {
            if (emData != null) {
                emData.close();
            }
        }
    }

    /** The first {@code n} training images, encoded for the decoder's leaves, as FLOAT32 [n, S]. */
    private static Tensor emData(Backend backend, Decoder decoder, ImageSet train, int n) {
        if (n < 1) {
            throw new IllegalArgumentException("--em-images must be >= 1, found " + n);
        }
        int count = Math.min(n, train.size());
        int[] idx = new int[count];
        for (int i = 0; i < count; i++) {
            idx[i] = i;
        }
        PixelEncoding encoding = PixelEncoding.forLeafFamily(decoder.leafFamily());
        float[] values = encoding.values(train, idx, new SplittableRandom(EM_NOISE_SEED));
        return backend.of(values, count, decoder.imageShape().pixels());
    }
}
