package io.vqdistill.distill;

import io.vqdistill.api.Backend;
import io.vqdistill.api.DType;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.Shapes;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.VqdistillException;
import io.vqdistill.api.circuit.LeafFamily;
import io.vqdistill.api.model.Decoder;
import io.vqdistill.api.search.LatentSet;
import io.vqdistill.circuits.LeafFamilies;
import io.vqdistill.circuits.MixtureEm;
import io.vqdistill.circuits.ShallowMixture;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import java.util.function.LongConsumer;

/**
 * Turns a latent set into the distilled model: each grid is decoded once, in batches of
 * {@link #decodeBatch()}, into the parameters of its S pixel leaves, and the grids become the N
 * components of a {@link ShallowMixture} of the decoder's leaf family, p(x) = sum_z w_z prod_i
 * p(x_i | z), weighted as a {@link Weighting} says. The mixture keeps the latent set (codes, class
 * tags, scores), so its file records them.
 */
public final class Distiller {
    /** Default number of grids per decoder call. */
    public static final int DEFAULT_DECODE_BATCH = 256;

    private final Backend backend;
    private final Decoder decoder;
    private final LeafFamily family;
    private final int decodeBatch;
    private final String source;

    /** A distiller decoding {@value #DEFAULT_DECODE_BATCH} grids per call. */
    public Distiller(Backend backend, Decoder decoder) {
        this(backend, decoder, DEFAULT_DECODE_BATCH);
    }

    /**
     * A distiller decoding {@code decodeBatch} grids per call.
     *
     * @param backend the backend the decoder computes on; the codes are handed to it there
     * @throws InvalidArgumentException when the decoder's leaf family is not registered, or the batch
     *                                  is below 1
     */
    public Distiller(Backend backend, Decoder decoder, int decodeBatch) {
        this(backend, decoder, decodeBatch, null);
    }

    /**
     * A distiller decoding {@code decodeBatch} grids per call, whose errors about the decoder's output
     * name {@code source}, where the decoder came from (e.g. {@code the VQ-VAE checkpoint /runs/vqvae}).
     *
     * @param source where the decoder came from, for messages; null when unknown
     * @throws InvalidArgumentException when the decoder's leaf family is not registered, or the batch
     *                                  is below 1
     */
    public Distiller(Backend backend, Decoder decoder, int decodeBatch, String source) {
        this.source = source;
        this.backend = Objects.requireNonNull(backend, "backend");
        this.decoder = Objects.requireNonNull(decoder, "decoder");
        if (decodeBatch < 1) {
            throw new InvalidArgumentException("decodeBatch must be >= 1, found " + decodeBatch);
        }
        this.decodeBatch = decodeBatch;
        this.family = LeafFamilies.create(decoder.leafFamily());
    }

    /** Grids per decoder call. */
    public int decodeBatch() {
        return decodeBatch;
    }

    /** The leaf family of the mixtures produced, the decoder's. */
    public LeafFamily leafFamily() {
        return family;
    }

    /**
     * Decodes {@code latents} and builds the mixture. Build it outside any {@link TensorScope} that
     * closes before the mixture is used.
     *
     * @throws InvalidArgumentException when the set's grid shape is not the decoder's, when prior
     *                                  weights are asked for and a score is unknown, or when EM data
     *                                  do not fit the mixture
     */
    public Distillation distil(LatentSet latents, Weighting weighting) {
        return distil(latents, weighting, decoded -> { });
    }

    /**
     * Decodes {@code latents} and builds the mixture, telling {@code decoded} how many grids are
     * decoded so far after each decoder call (the last call reports {@code latents.size()}).
     *
     * @see #distil(LatentSet, Weighting)
     */
    public Distillation distil(LatentSet latents, Weighting weighting, LongConsumer decoded) {
        Objects.requireNonNull(latents, "latents");
        Objects.requireNonNull(weighting, "weighting");
        Objects.requireNonNull(decoded, "decoded");
        if (!latents.shape().equals(decoder.latentShape())) {
            throw new InvalidArgumentException("the latent set holds " + latents.shape() + " grids but the decoder"
                    + " takes " + decoder.latentShape());
        }
        if (latents.size() < 1) {
            throw new InvalidArgumentException("the latent set is empty; a mixture needs at least one grid");
        }
        Map<String, String> provenance = new LinkedHashMap<>();
        provenance.put("distill.components", Integer.toString(latents.size()));
        provenance.put("distill.latent_shape", latents.shape().toString());
        provenance.put("distill.weighting", weighting.toString());
        provenance.put("distill.leaf_family", family.name());
        Map<String, Tensor> parameters = decode(latents, decoded);
        try {
            ShallowMixture.Builder builder = ShallowMixture.builder(family).parameters(parameters).latents(latents);
            if (weighting instanceof Weighting.Prior) {
                builder.logWeights(priorLogWeights(latents)).normaliseWeights();
            }
            ShallowMixture mixture = builder.build();
            if (weighting instanceof Weighting.Em em) {
                return fitWeights(mixture, em, provenance);
            }
            return new Distillation(mixture, provenance, new double[0]);
        } finally {
            parameters.values().forEach(Tensor::close);
        }
    }

    /**
     * EM for the weights with the leaves fixed ({@link MixtureEm} with {@link MixtureEm.Settings#weightsOnly}):
     * each update sets w_n to the mean responsibility p(n | x) over the data; stops after
     * {@code maxIterations} updates or when an update gains less than the tolerance. Takes ownership
     * of {@code start}.
     */
    private static Distillation fitWeights(ShallowMixture start, Weighting.Em em, Map<String, String> provenance) {
        ShallowMixture current = start;
        try {
            current.setPrecision(em.precision());
            MixtureEm.Settings settings = MixtureEm.Settings.weightsOnly(em.precision());
            List<Double> trace = new ArrayList<>();
            for (int iteration = 0;; iteration++) {
                MixtureEm.Step step = MixtureEm.step(current, em.data(), settings, rows -> { });
                trace.add(step.meanLogLikelihood());
                if (iteration == em.maxIterations()
                        || iteration > 0 && trace.get(iteration) - trace.get(iteration - 1) < em.tolerance()) {
                    step.next().close();
                    break;
                }
                current.close();
                current = step.next();
            }
            provenance.put("distill.em_updates", Integer.toString(trace.size() - 1));
            provenance.put("distill.em_mean_log_likelihood", Double.toString(trace.get(trace.size() - 1)));
            return new Distillation(current, provenance, trace.stream().mapToDouble(Double::doubleValue).toArray());
        } catch (RuntimeException e) {
            current.close();
            throw e;
        }
    }

    private static double[] priorLogWeights(LatentSet latents) {
        double[] scores = latents.logProbs();
        for (int i = 0; i < scores.length; i++) {
            if (Double.isNaN(scores[i])) {
                throw new InvalidArgumentException("prior weights need the log p(z) of every grid, but grid " + i
                        + " has no score (NaN); use uniform weights or a search that scores its grids");
            }
        }
        return scores;
    }

    /**
     * The leaf parameters of every grid, [N, S] + event shape each, from one decoder call per batch;
     * {@code decoded} hears the grids decoded so far after each call. The caller closes them.
     */
    Map<String, Tensor> decode(LatentSet latents, LongConsumer decoded) {
        int n = latents.size();
        int p = latents.shape().positions();
        int s = decoder.imageShape().pixels();
        int[] codes = latents.codes();
        Map<String, List<Tensor>> parts = new LinkedHashMap<>();
        try (TensorScope scope = TensorScope.open()) {
            for (int start = 0; start < n; start += decodeBatch) {
                int len = Math.min(decodeBatch, n - start);
                long[] batch = new long[len * p];
                for (int i = 0; i < batch.length; i++) {
                    batch[i] = codes[start * p + i];
                }
                Map<String, Tensor> leaves = decoder.decode(backend.of(batch, len, p));
                check(leaves, len, s);
                requireFinite(leaves, latents, start);
                leaves.forEach((name, t) -> parts.computeIfAbsent(name, k -> new ArrayList<>()).add(t));
                decoded.accept(start + len);
            }
            Map<String, Tensor> out = new LinkedHashMap<>();
            parts.forEach((name, list) -> out.put(name, scope.keep(list.size() == 1 ? list.get(0)
                    : list.get(0).backend().concat(list, 0))));
            return out;
        }
    }

    /**
     * Throws unless every decoded parameter of the batch starting at component {@code start} is finite,
     * naming the decoder's source, the component, its grid and class, and the pixel.
     */
    private void requireFinite(Map<String, Tensor> decoded, LatentSet latents, int start) {
        for (LeafFamily.Parameter q : family.parameters()) {
            Tensor t = decoded.get(q.name());
            double total;
            try (Tensor zeroIfFinite = t.sub(t); Tensor sum = zeroIfFinite.sumAll()) {
                total = sum.item();
            }
            if (total == 0) {
                continue;
            }
            float[] values = t.toFloatArray();
            long event = 1;
            for (long e : q.eventShape()) {
                event *= e;
            }
            for (int i = 0; i < values.length; i++) {
                if (!Float.isFinite(values[i])) {
                    throw new VqdistillException(nonFinite(q.name(), values[i], latents, start + (int) (i
                            / (event * decoder.imageShape().pixels())), (int) (i / event % decoder.imageShape()
                            .pixels())));
                }
            }
        }
    }

    private String nonFinite(String parameter, float value, LatentSet latents, int component, int pixel) {
        int p = latents.shape().positions();
        int[] grid = Arrays.copyOfRange(latents.codes(), component * p, (component + 1) * p);
        int cls = latents.classes()[component];
        int side = decoder.imageShape().height() * decoder.imageShape().width();
        int w = decoder.imageShape().width();
        return (source == null ? "the decoder" : "the decoder of " + source) + " gave " + value + " for "
                + family.name() + " parameter '" + parameter + "' of component " + component + " (grid "
                + Arrays.toString(grid) + (cls >= 0 ? ", class " + cls : "") + ") at pixel " + pixel + " (row "
                + pixel % side / w + ", column " + pixel % w + "): its weights are finite, but its output is not;"
                + " the network has diverged or overflows for this grid: retrain it";
    }

    private void check(Map<String, Tensor> decoded, int len, int s) {
        TreeSet<String> expected = new TreeSet<>();
        family.parameters().forEach(q -> expected.add(q.name()));
        if (!expected.equals(new TreeSet<>(decoded.keySet()))) {
            throw new VqdistillException("the decoder returned " + new TreeSet<>(decoded.keySet()) + " but "
                    + family.name() + " leaves need " + expected);
        }
        for (LeafFamily.Parameter q : family.parameters()) {
            Tensor t = decoded.get(q.name());
            long[] event = q.eventShape();
            long[] shape = new long[2 + event.length];
            shape[0] = len;
            shape[1] = s;
            System.arraycopy(event, 0, shape, 2, event.length);
            if (t.dtype() != DType.FLOAT32 || !Arrays.equals(t.shape(), shape)) {
                throw new VqdistillException("the decoder returned '" + q.name() + "' as " + t.dtype().label() + " "
                        + Shapes.format(t.shape()) + ", expected float32 " + Shapes.format(shape));
            }
        }
    }
}
