package io.vqdistill.distill.pipeline;

import io.vqdistill.api.Backend;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.model.Decoder;
import io.vqdistill.api.model.Encoder;
import io.vqdistill.api.model.ImageShape;
import io.vqdistill.api.model.Prior;
import io.vqdistill.api.search.EncodedImages;
import io.vqdistill.api.search.LatentSearch;
import io.vqdistill.api.search.LatentSet;
import io.vqdistill.api.search.SearchRequest;
import io.vqdistill.circuits.io.CircuitFiles;
import io.vqdistill.distill.Distillation;
import io.vqdistill.distill.Distiller;
import io.vqdistill.distill.VarianceFloor;
import io.vqdistill.distill.Weighting;
import io.vqdistill.distill.eval.PixelEncoding;
import io.vqdistill.models.data.ImageSet;
import jakarta.inject.Inject;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.function.LongConsumer;

/**
 * Distils a VQ-VAE and its prior into a shallow mixture circuit and saves it: the named latent search
 * selects N grids on the prior, the decoder turns each into its pixel leaves once, the components are
 * weighted as the request says, and the mixture is written to the request's folder with its
 * provenance (the checkpoints' absolute folders, the floor if any, the search, the settings it reads,
 * its seed and time).
 */
public final class DistillationPipeline {
    /** EM stops once an update gains less than this many nats of mean log-likelihood. */
    public static final double EM_TOLERANCE = 1e-4;
    /** Seeds the dequantisation noise of the EM images. */
    private static final long EM_NOISE_SEED = 11;
    /** Seeds the dequantisation noise of the images a data-guided search encodes. */
    private static final long ENCODING_NOISE_SEED = 12;
    /** Images per encoder call. */
    private static final int ENCODING_BATCH = 500;
    /** The name of the search task {@link ProgressListener}s hear about. */
    public static final String SEARCH_TASK = "search";
    /** The name of the decoding task {@link ProgressListener}s hear about. */
    public static final String DECODE_TASK = "decode";

    private final SearchCatalog searches;

    /** A pipeline selecting its searches from {@code searches}. */
    @Inject
    public DistillationPipeline(SearchCatalog searches) {
        this.searches = Objects.requireNonNull(searches, "searches");
    }

    /**
     * Loads the decoder and prior in {@code session} (once per session), searches, distils and saves.
     *
     * @param searched told what the search returned as soon as it has, before the distillation
     * @return what was made, with the search's and the distillation's wall times
     */
    public DistillationResult run(Session session, DistillationRequest request, Consumer<SearchOutcome> searched) {
        return run(session, request, searched, ProgressListener.NONE);
    }

    /**
     * Searches, distils and saves as {@link #run(Session, DistillationRequest, Consumer)} does, reporting
     * two tasks to {@code progress}: {@value #SEARCH_TASK} in grids, then {@value #DECODE_TASK} in
     * components decoded.
     */
    public DistillationResult run(Session session, DistillationRequest request, Consumer<SearchOutcome> searched,
                                  ProgressListener progress) {
        Objects.requireNonNull(session, "session");
        Objects.requireNonNull(searched, "searched");
        Objects.requireNonNull(progress, "progress");
        LatentSearch strategy = searches.get(request.search(), request.deterministic(), request.scoreGrids(),
                request.tuning());
        Decoder raw = session.decoder(request.vqvae());
        Prior prior = session.prior(request.prior());
        requireSameGrids(raw, request.vqvae(), prior, request.prior());
        Decoder decoder = request.minStd() == null ? raw : VarianceFloor.of(raw, request.minStd());
        Map<String, String> provenance = new LinkedHashMap<>();
        if (request.minStd() != null) {
            provenance.put("min_std", Double.toString(request.minStd()));
        }
        provenance.put("vqvae", request.vqvae().toAbsolutePath().normalize().toString());
        provenance.put("prior", request.prior().toAbsolutePath().normalize().toString());

        long t0 = System.nanoTime();
        LatentSet latents = ProgressListener.track(progress, SEARCH_TASK, request.components(), "grids", found -> {
            long[] shown = {0};
            SearchRequest search = SearchRequest.of(request.components(), request.seed())
                    .withProgress(inGrids(request.components(), shown, found));
            if (strategy.usesEncodedImages()) {
                search = search.withEncoded(encoded(session.encoder(request.vqvae()), session.backend(),
                        strategy.name(), request.searchImages()));
            }
            LatentSet set = strategy.search(prior, search);
            if (shown[0] < request.components()) {
                found.accept(request.components());
            }
            return set;
        });
        SearchOutcome outcome = new SearchOutcome(strategy.name(), latents.size(), latents.distinctGrids(),
                latents.shape(), (System.nanoTime() - t0) / 1e9);
        searched.accept(outcome);

        long t1 = System.nanoTime();
        Backend backend = session.backend();
        Tensor emData = null;
        try {
            Weighting weighting = switch (request.weighting()) {
                case UNIFORM -> Weighting.uniform();
                case PRIOR -> Weighting.prior();
                case EM -> {
                    emData = emData(backend, decoder, request.em().train(), request.em().images());
                    yield Weighting.em(emData, request.em().iterations(), EM_TOLERANCE, request.precision());
                }
            };
            provenance.put("search", strategy.name());
            provenance.putAll(SearchTuning.provenance(strategy.name(),
                    searches.options(request.deterministic(), request.scoreGrids(), request.tuning())));
            if (strategy.usesEncodedImages()) {
                provenance.put("search_images", request.searchImages().description() + " ("
                        + request.searchImages().size() + ")");
            }
            provenance.put("seed", Long.toString(request.seed()));
            provenance.put("search_seconds", String.format(Locale.ROOT, "%.3f", outcome.seconds()));
            Distiller distiller = new Distiller(backend, decoder, Distiller.DEFAULT_DECODE_BATCH,
                    "the VQ-VAE checkpoint " + request.vqvae());
            Weighting chosen = weighting;
            try (Distillation d = ProgressListener.track(progress, DECODE_TASK, latents.size(), "components",
                    decoded -> distiller.distil(latents, chosen, decoded))) {
                d.save(request.out(), provenance, prior.numClasses());
                double seconds = (System.nanoTime() - t1) / 1e9;
                return new DistillationResult(outcome, weighting.toString(), d.mixture().components(),
                        d.mixture().parameterCount(), d.mixture().leafFamily().name(),
                        request.out().resolve(CircuitFiles.JSON), CircuitFiles.tensorFile(request.out()),
                        seconds);
            }
        } finally {
            if (emData != null) {
                emData.close();
            }
        }
    }

    /**
     * Checks that {@code prior} models the grids {@code decoder} takes (grid and codebook size), before
     * any search.
     *
     * @throws InvalidArgumentException naming both checkpoint folders and their grids
     */
    static void requireSameGrids(Decoder decoder, Path vqvae, Prior prior, Path priorDir) {
        if (!decoder.latentShape().equals(prior.latentShape())) {
            throw new InvalidArgumentException("the prior in " + priorDir + " models " + prior.latentShape()
                    + " grids, but the VQ-VAE in " + vqvae + " decodes " + decoder.latentShape() + " grids: give the"
                    + " prior trained on this VQ-VAE");
        }
    }

    /**
     * The grids {@code encoder} assigns to {@code images} (dequantised with a fixed seed, as the prior's
     * trainer encodes its data), with their labels, in batches.
     *
     * @throws InvalidArgumentException when no images are given for the data-guided search {@code search}
     */
    static EncodedImages encoded(Encoder encoder, Backend backend, String search, ImageSet images) {
        requireSearchImages(search, images);
        ImageShape shape = encoder.imageShape();
        int p = encoder.latentShape().positions();
        int[] codes = new int[images.size() * p];
        SplittableRandom noise = new SplittableRandom(ENCODING_NOISE_SEED);
        for (int from = 0; from < images.size(); from += ENCODING_BATCH) {
            int[] idx = new int[Math.min(ENCODING_BATCH, images.size() - from)];
            for (int i = 0; i < idx.length; i++) {
                idx[i] = from + i;
            }
            try (Tensor x = backend.of(images.dequantised(idx, noise), idx.length, shape.channels(), shape.height(),
                    shape.width()); Tensor c = encoder.encode(x)) {
                long[] got = c.toLongArray();
                for (int i = 0; i < got.length; i++) {
                    codes[from * p + i] = Math.toIntExact(got[i]);
                }
            }
        }
        return new EncodedImages(encoder.latentShape(), codes, images.labels());
    }

    /**
     * Checks that the data-guided search {@code search} is given training images to select from.
     *
     * @throws InvalidArgumentException when {@code images} is null, naming the search
     */
    static void requireSearchImages(String search, ImageSet images) {
        if (images == null) {
            throw new InvalidArgumentException("the " + search + " search selects from the grids of the training"
                    + " images, and none were given");
        }
    }

    /** The first {@code n} training images, encoded for the decoder's leaves, as FLOAT32 [n, S]. */
    private static Tensor emData(Backend backend, Decoder decoder, ImageSet train, int n) {
        int count = Math.min(n, train.size());
        int[] idx = new int[count];
        for (int i = 0; i < count; i++) {
            idx[i] = i;
        }
        PixelEncoding encoding = PixelEncoding.forLeafFamily(decoder.leafFamily());
        float[] values = encoding.values(train, idx, new SplittableRandom(EM_NOISE_SEED));
        return backend.of(values, count, decoder.imageShape().pixels());
    }

    /**
     * A search's progress (prior rows of an estimated total that may grow) as grids of
     * {@code components}, never decreasing; {@code shown[0]} holds the last count reported.
     */
    private static io.vqdistill.api.search.ProgressListener inGrids(int components, long[] shown,
                                                                    LongConsumer found) {
        return (done, total) -> {
            long grids = Math.min(components, (long) Math.floor((double) components * done / Math.max(1, total)));
            if (grids > shown[0]) {
                shown[0] = grids;
                found.accept(grids);
            }
        };
    }
}
