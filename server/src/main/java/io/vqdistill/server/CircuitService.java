package io.vqdistill.server;

import io.vqdistill.api.Backend;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.circuit.Circuit;
import io.vqdistill.api.model.ImageShape;
import io.vqdistill.circuits.ShallowMixture;
import io.vqdistill.distill.eval.PixelEncoding;
import io.vqdistill.models.data.ImageSet;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import java.util.stream.IntStream;

/**
 * The queries {@code vqdistill serve} answers, on one circuit over the pixels of square images, free
 * of HTTP: log-likelihood and bits per dimension of an image, the marginal log-likelihood of a pixel
 * set, the conditional mean, mode and samples of the hidden pixels, unconditional samples, and the
 * posterior over the circuit's components.
 *
 * <p>Images come in as levels 0..255 and are presented to the circuit in the pixel encoding of its
 * leaves ({@link PixelEncoding#forLeafFamily}); for Gaussian leaves that is (p + u)/256 with the noise
 * u drawn from a seed the caller gives, as {@code vqdistill evaluate} does. Images go out on the same
 * level scale: a value v of a Gaussian circuit as 256 v - 1/2 (the centre of the level's cell), a
 * categorical circuit's values as they are; they are not rounded or clipped.
 *
 * <p><b>Thread safety.</b> A {@link Circuit} and the tensors of its backend are not thread-safe, so
 * every query takes one fair lock around all its work on the circuit and the backend (building the
 * input tensors, the query, copying the result to the host, closing the temporaries): concurrent
 * callers are served one at a time, in arrival order. Everything outside the lock works on host
 * arrays only.
 */
public final class CircuitService {
    /** Most unconditional samples per request. */
    public static final int MAX_SAMPLES = 64;
    /** Most conditional samples per request. */
    public static final int MAX_CONDITIONAL_SAMPLES = 16;
    /** Most components reported by a posterior request. */
    public static final int MAX_TOP = 100;

    /** A conditional query of the hidden pixels. */
    public enum Query {
        /** The conditional mean E[x_h | x_o]. */
        MEAN,
        /** The most probable completion. */
        MODE,
        /** Draws from p(x_h | x_o). */
        SAMPLE;

        /** The lower-case name used in requests, e.g. {@code mean}. */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * An image to query: S levels 0..255 in row-major order, from the test set or posted.
     *
     * @param levels the pixel levels
     * @param index  the test image's index, or -1 for a posted image
     * @param label  the test image's class label, or -1
     */
    public record Image(int[] levels, int index, int label) {
        /** Checks the levels' range. */
        public Image {
            Objects.requireNonNull(levels, "levels");
            for (int i = 0; i < levels.length; i++) {
                if (levels[i] < 0 || levels[i] > 255) {
                    throw RequestException.bad("image[" + i + "]", "a level must be an integer in 0..255, got "
                            + levels[i]);
                }
            }
        }
    }

    /**
     * What the server serves.
     *
     * @param description    where the circuit came from (its folder)
     * @param kind           the circuit's class, e.g. {@code ShallowMixture}
     * @param variables      S, pixels per image
     * @param side           the images' side, S = side * side
     * @param components     the number of components (children of the root sum), or -1 if unknown
     * @param leafFamily     the leaves' family
     * @param encoding       how levels are presented to the circuit
     * @param parameterCount the circuit's free parameters
     * @param backend        the backend's name and version
     * @param testImages     the number of test images that can be asked for by index (0: none)
     * @param testImagesFrom where the test images came from, or null
     */
    public record Info(String description, String kind, int variables, int side, int components, String leafFamily,
                       PixelEncoding encoding, long parameterCount, String backend, int testImages,
                       String testImagesFrom) {
    }

    /**
     * log p(x) of a complete image.
     *
     * @param logLikelihood log p(x) in nats, of the encoded values
     * @param bitsPerDim    -log2 p(x) / S plus the encoding's offset (8 bits for dequantised pixels)
     * @param seconds       time of the query
     */
    public record Likelihood(double logLikelihood, double bitsPerDim, double seconds) {
    }

    /**
     * log p(x_o) of the observed pixels of an image.
     *
     * @param logLikelihood          log p(x_o) in nats
     * @param observed               the number of observed pixels
     * @param bitsPerObservedDim     -log2 p(x_o) / observed plus the encoding's offset; NaN when
     *                               nothing is observed
     * @param seconds                time of the query
     */
    public record Marginal(double logLikelihood, int observed, double bitsPerObservedDim, double seconds) {
    }

    /**
     * The hidden pixels filled in, each image on the level scale with its observed pixels as given.
     *
     * @param mean    the conditional mean, or null if not asked for
     * @param mode    the most probable completion, or null
     * @param samples conditional samples (possibly none)
     * @param hidden  the number of hidden pixels
     * @param seconds time of the queries
     */
    public record Completion(float[] mean, float[] mode, List<float[]> samples, int hidden, double seconds) {
    }

    /**
     * One component and its posterior probability given the observed pixels.
     *
     * @param component      its index, 0..N-1
     * @param probability    p(component | x_o)
     * @param logProbability log p(component | x_o), nats
     * @param latentClass    the class its latent grid was searched under, or -1 (none or unknown)
     * @param mean           the component's mean image on the level scale, or null when not asked
     *                       for or the circuit is not a shallow mixture
     */
    public record Component(int component, double probability, double logProbability, int latentClass,
                            float[] mean) {
    }

    /**
     * The most probable components given the observed pixels, best first.
     *
     * @param components the number of components of the circuit
     * @param top        the best components
     * @param entropyBits the entropy of the whole posterior, in bits
     * @param seconds    time of the query
     */
    public record Posterior(int components, List<Component> top, double entropyBits, double seconds) {
    }

    private final Circuit circuit;
    private final ImageSet testImages;
    private final String description;
    private final int variables;
    private final int side;
    private final PixelEncoding encoding;
    private final ImageShape shape;
    private final ReentrantLock lock = new ReentrantLock(true);
    private final AtomicLong answered = new AtomicLong();

    /**
     * A service answering queries of {@code circuit}.
     *
     * @param circuit     the circuit; the caller keeps ownership and closes it after the service
     * @param testImages  the images that can be asked for by index, or null for none
     * @param description where the circuit came from, shown to clients
     * @throws InvalidArgumentException when the circuit's variables are not the pixels of a square
     *                                  image, the test images have another number of pixels, or the
     *                                  leaf family has no pixel encoding
     */
    public CircuitService(Circuit circuit, ImageSet testImages, String description) {
        this.circuit = Objects.requireNonNull(circuit, "circuit");
        this.testImages = testImages;
        this.description = Objects.requireNonNull(description, "description");
        this.variables = circuit.numVariables();
        this.side = (int) Math.round(Math.sqrt(variables));
        if (side * side != variables) {
            throw new InvalidArgumentException("the circuit has " + variables + " variables, not the pixels of a"
                    + " square image");
        }
        if (testImages != null && testImages.shape().pixels() != variables) {
            throw new InvalidArgumentException("the test images (" + testImages.description() + ") have "
                    + testImages.shape().pixels() + " pixels but the circuit " + variables + " variables");
        }
        this.encoding = PixelEncoding.forLeafFamily(circuit.leafFamily().name());
        this.shape = new ImageShape(1, side, side);
    }

    /** What is served. */
    public Info info() {
        Backend b = circuit.backend();
        return new Info(description, circuit.getClass().getSimpleName(), variables, side, components(),
                circuit.leafFamily().name(), encoding, circuit.parameterCount(), b.name() + " (" + b.version() + ")",
                testImages == null ? 0 : testImages.size(), testImages == null ? null : testImages.description());
    }

    /** The number of queries answered so far (successful or not), for monitoring and tests. */
    public long answered() {
        return answered.get();
    }

    /** S, pixels per image. */
    public int variables() {
        return variables;
    }

    private int components() {
        return circuit instanceof ShallowMixture m ? m.components() : -1;
    }

    /**
     * Test image {@code index}.
     *
     * @param field the request field that gave the index, named in errors
     * @throws RequestException when there are no test images or the index is out of range
     */
    public Image testImage(int index, String field) {
        if (testImages == null) {
            throw RequestException.bad(field, "the server has no test images (start it with --data DIR);"
                    + " post the image's levels instead");
        }
        if (index < 0 || index >= testImages.size()) {
            throw RequestException.bad(field, "must be in 0.." + (testImages.size() - 1) + ", got " + index);
        }
        return new Image(testImages.levels(new int[] {index}), index, testImages.label(index));
    }

    /**
     * A posted image of S levels.
     *
     * @throws RequestException when it has the wrong number of pixels or a level outside 0..255
     */
    public Image postedImage(int[] levels) {
        if (levels.length != variables) {
            throw RequestException.bad("image", "needs " + variables + " levels (" + side + "x" + side
                    + "), got " + levels.length);
        }
        return new Image(levels.clone(), -1, -1);
    }

    /** log p(x) and bits per dimension of {@code image}, dequantised with {@code seed} where the encoding asks. */
    public Likelihood likelihood(Image image, long seed) {
        float[] x = encode(image, seed);
        return locked(() -> {
            long t0 = System.nanoTime();
            double ll = circuit.logLikelihood(circuit.backend().of(x, 1, variables)).toDoubleArray()[0];
            return new Likelihood(ll, -ll / Math.log(2) / variables + encoding.offsetBits(), since(t0));
        });
    }

    /**
     * log p(x_o) of the pixels of {@code image} where {@code observed} is true.
     *
     * @throws RequestException when the mask has the wrong length
     */
    public Marginal marginal(Image image, boolean[] observed, long seed) {
        checkMask(observed);
        float[] x = encode(image, seed);
        int count = count(observed, true);
        return locked(() -> {
            long t0 = System.nanoTime();
            Backend b = circuit.backend();
            double ll = circuit.marginalLogLikelihood(b.of(x, 1, variables), b.of(observed, 1, variables))
                    .toDoubleArray()[0];
            double bits = count == 0 ? Double.NaN : -ll / Math.log(2) / count + encoding.offsetBits();
            return new Marginal(ll, count, bits, since(t0));
        });
    }

    /**
     * Fills in the pixels of {@code image} where {@code observed} is false with each of {@code queries};
     * {@code samples} conditional samples are drawn when {@link Query#SAMPLE} is asked for.
     *
     * @throws RequestException when the mask has the wrong length or hides nothing, or samples is out
     *                          of range
     */
    public Completion complete(Image image, boolean[] observed, Set<Query> queries, int samples, long seed) {
        checkMask(observed);
        int hidden = count(observed, false);
        if (hidden == 0) {
            throw RequestException.bad("hidden", "hides no pixel: paint the region to fill in");
        }
        Set<Query> asked = queries.isEmpty() ? EnumSet.noneOf(Query.class) : EnumSet.copyOf(queries);
        int draws = asked.contains(Query.SAMPLE) ? samples : 0;
        if (asked.contains(Query.SAMPLE) && (samples < 1 || samples > MAX_CONDITIONAL_SAMPLES)) {
            throw RequestException.bad("samples", "must be in 1.." + MAX_CONDITIONAL_SAMPLES + ", got " + samples);
        }
        float[] x = encode(image, seed);
        Completion raw = locked(() -> {
            long t0 = System.nanoTime();
            Backend b = circuit.backend();
            Tensor xs = b.of(x, 1, variables);
            Tensor obs = b.of(observed, 1, variables);
            float[] mean = asked.contains(Query.MEAN) ? circuit.conditionalMean(xs, obs).toFloatArray() : null;
            float[] mode = asked.contains(Query.MODE) ? circuit.conditionalMode(xs, obs).toFloatArray() : null;
            List<float[]> drawn = new ArrayList<>();
            if (draws > 0) {
                float[] repeated = new float[draws * variables];
                boolean[] repeatedMask = new boolean[draws * variables];
                for (int d = 0; d < draws; d++) {
                    System.arraycopy(x, 0, repeated, d * variables, variables);
                    System.arraycopy(observed, 0, repeatedMask, d * variables, variables);
                }
                float[] all = circuit.conditionalSample(b.of(repeated, draws, variables),
                        b.of(repeatedMask, draws, variables), new SplittableRandom(seed)).toFloatArray();
                for (int d = 0; d < draws; d++) {
                    drawn.add(Arrays.copyOfRange(all, d * variables, (d + 1) * variables));
                }
            }
            return new Completion(mean, mode, drawn, hidden, since(t0));
        });
        return new Completion(raw.mean() == null ? null : toLevels(raw.mean()),
                raw.mode() == null ? null : toLevels(raw.mode()),
                raw.samples().stream().map(this::toLevels).toList(), hidden, raw.seconds());
    }

    /**
     * {@code count} unconditional samples on the level scale.
     *
     * @throws RequestException when count is outside 1..{@value #MAX_SAMPLES}
     */
    public List<float[]> sample(int count, long seed) {
        if (count < 1 || count > MAX_SAMPLES) {
            throw RequestException.bad("count", "must be in 1.." + MAX_SAMPLES + ", got " + count);
        }
        float[] all = locked(() -> circuit.sample(count, new SplittableRandom(seed)).toFloatArray());
        List<float[]> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            out.add(toLevels(Arrays.copyOfRange(all, i * variables, (i + 1) * variables)));
        }
        return out;
    }

    /**
     * The {@code top} most probable components given the pixels of {@code image} where
     * {@code observed} is true, with each one's mean image when {@code images} is set.
     *
     * @throws RequestException when the mask has the wrong length or top is out of range
     */
    public Posterior posterior(Image image, boolean[] observed, int top, boolean images, long seed) {
        checkMask(observed);
        if (top < 1 || top > MAX_TOP) {
            throw RequestException.bad("top", "must be in 1.." + MAX_TOP + ", got " + top);
        }
        float[] x = encode(image, seed);
        return locked(() -> {
            long t0 = System.nanoTime();
            Backend b = circuit.backend();
            float[] logPost = circuit.componentPosterior(b.of(x, 1, variables), b.of(observed, 1, variables))
                    .toFloatArray();
            int n = logPost.length;
            double entropy = 0;
            for (float lp : logPost) {
                if (lp > Float.NEGATIVE_INFINITY) {
                    entropy -= Math.exp(lp) * lp;
                }
            }
            int[] best = IntStream.range(0, n).boxed()
                    .sorted(Comparator.<Integer>comparingDouble(i -> logPost[i]).reversed().thenComparing(i -> i))
                    .limit(Math.min(top, n)).mapToInt(Integer::intValue).toArray();
            float[][] means = images ? componentMeans(best) : null;
            int[] classes = latentClasses();
            List<Component> list = new ArrayList<>();
            for (int k = 0; k < best.length; k++) {
                int c = best[k];
                list.add(new Component(c, Math.exp(logPost[c]), logPost[c], classes == null ? -1 : classes[c],
                        means == null ? null : means[k]));
            }
            return new Posterior(n, List.copyOf(list), entropy / Math.log(2), since(t0));
        });
    }

    /** The mean images of {@code components} on the level scale, or null when the circuit is not a shallow mixture. */
    private float[][] componentMeans(int[] components) {
        if (!(circuit instanceof ShallowMixture m)) {
            return null;
        }
        long[] index = Arrays.stream(components).asLongStream().toArray();
        Tensor rows = m.backend().of(index, index.length);
        Map<String, Tensor> picked = new LinkedHashMap<>();
        m.parameters().forEach((k, v) -> picked.put(k, v.gather(0, rows)));
        float[] all = m.leafFamily().mean(picked).toFloatArray();
        float[][] out = new float[components.length][];
        for (int k = 0; k < components.length; k++) {
            out[k] = toLevels(Arrays.copyOfRange(all, k * variables, (k + 1) * variables));
        }
        return out;
    }

    private int[] latentClasses() {
        if (circuit instanceof ShallowMixture m) {
            Optional<int[]> classes = m.latents().map(l -> l.classes());
            return classes.orElse(null);
        }
        return null;
    }

    /**
     * Runs {@code work} holding the circuit's lock, inside a tensor scope that closes every tensor it
     * created; the work returns host values only.
     */
    private <T> T locked(Supplier<T> work) {
        lock.lock();
        try (TensorScope scope = TensorScope.open()) {
            return work.get();
        } finally {
            lock.unlock();
            answered.incrementAndGet();
        }
    }

    /** The circuit's values of an image: dequantised with {@code seed}, or the levels themselves. */
    private float[] encode(Image image, long seed) {
        if (image.levels().length != variables) {
            throw RequestException.bad("image", "needs " + variables + " levels, got " + image.levels().length);
        }
        byte[] bytes = new byte[variables];
        for (int i = 0; i < variables; i++) {
            bytes[i] = (byte) image.levels()[i];
        }
        ImageSet one = new ImageSet(shape, bytes, new int[] {0}, 1, "request");
        return encoding.values(one, new int[] {0}, new SplittableRandom(seed));
    }

    /** Values in the circuit's encoding on the level scale 0..255. */
    private float[] toLevels(float[] values) {
        if (encoding == PixelEncoding.LEVELS) {
            return values;
        }
        float[] out = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = 256f * values[i] - 0.5f;
        }
        return out;
    }

    private void checkMask(boolean[] observed) {
        if (observed.length != variables) {
            throw RequestException.bad("observed", "the mask needs " + variables + " entries, got " + observed.length);
        }
    }

    private static int count(boolean[] mask, boolean value) {
        int c = 0;
        for (boolean m : mask) {
            if (m == value) {
                c++;
            }
        }
        return c;
    }

    private static double since(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }
}
