package io.vqdistill.cli.options;

import io.vqdistill.api.InvalidArgumentException;
import java.lang.management.ManagementFactory;
import java.util.Locale;

/**
 * Estimates of the memory a request needs, checked before any work starts, so that a request too
 * large for this machine is refused with a message naming the flags instead of failing with an
 * {@link OutOfMemoryError} minutes later.
 *
 * <p>Two figures are estimated, in bytes, from the sizes the flags give (every value is a 4-byte
 * float; N components, S pixels, F floats per pixel: 2 for Gaussian leaves, 256 for categorical ones,
 * 1 for Bernoulli ones; B images per batch):
 * <ul>
 *   <li><b>Java heap</b> (host arrays), compared with what {@link Runtime#maxMemory()} leaves free
 *       now (a request beyond the machine's physical memory is refused without suggesting a larger heap).
 *       A circuit of P = N·S·F parameters holds 2·4·P bytes on the heap while it is written or
 *       read (each tensor copied to a Java array and encoded into, or decoded from, the file's
 *       bytes); {@code bench} builds its random parameters and images on the heap first,
 *       4·(3·N·S + B·S) bytes.</li>
 *   <li><b>Engine memory</b> (the backend's tensors, outside the heap), compared with the machine's
 *       physical memory when the JVM reports it. A distillation holds about 3·4·P bytes (the decoded
 *       batches, their concatenation and the mixture's own copy); a circuit read for queries 2·4·P
 *       plus its scores, 3·4·b·N for evaluation batches of b = 500 images; {@code bench}
 *       4·(5·N·S + 2·B·S + 4·B·N) (parameters and the kernel's derived terms, the images and their
 *       squares, the [B, N] scores and the plain product); {@code sample} holds n samples of S pixels
 *       and their picture at scale c on the heap, 3·4·n·S·c² bytes, and 4·n·(2·S + N) on the engine;
 *       training 4·B·S·C·8 for the activations of B images through stages of C channels in all, kept for the
 *       backward pass (a rough figure).</li>
 * </ul>
 * A leaf tensor of N·S·F floats passes through one Java float array when it is copied between
 * the engine and the host, so one of more than {@link #MAX_TENSOR_FLOATS} floats is refused too (the
 * circuit files hold any size: a large circuit is stored in shards). The estimates are deliberately round: they catch requests that cannot fit
 * (ten times too large), not the last few percent.
 */
public final class MemoryBudget {
    /** Bytes of one float. */
    public static final long FLOAT = 4;
    /** Images per evaluation batch of the circuit queries ({@code Evaluator.DEFAULT_BATCH}). */
    public static final long EVALUATION_BATCH = 500;
    /** The most floats of one leaf tensor: the largest Java array the JVM allocates. */
    public static final long MAX_TENSOR_FLOATS = Integer.MAX_VALUE - 8;

    private MemoryBudget() {
    }

    /**
     * Checks {@code bench}'s request of N = {@code components} over S = {@code variables} pixels on
     * B = {@code batch} images.
     *
     * @throws InvalidArgumentException when it does not fit, naming {@code --components} and {@code --batch}
     */
    public static void bench(long components, long batch, long variables) {
        long ns = components * variables;
        long bs = batch * variables;
        check("bench --components " + components + " --batch " + batch + " --variables " + variables,
                FLOAT * (3 * ns + bs), FLOAT * (5 * ns + 2 * bs + 4 * batch * components),
                "for N = " + components + ", B = " + batch + ", S = " + variables,
                "--components, --batch or --variables");
    }

    /**
     * Checks a distillation of N = {@code components} grids into leaves of family {@code leafFamily}
     * on each of S = {@code pixels} pixels.
     *
     * @param request the command and flags, e.g. {@code distill --components 1000000}
     * @param flags   the flags to lower, e.g. {@code --components}
     * @throws InvalidArgumentException when it does not fit, naming {@code flags}
     */
    public static void distillation(String request, long components, long pixels, String leafFamily,
                                    String flags) {
        long f = floatsPerPixel(leafFamily);
        long p = components * pixels * f;
        tensor(request, components, pixels * largestTensorPerPixel(leafFamily), flags);
        check(request, 2 * FLOAT * p, 3 * FLOAT * p + 3 * FLOAT * EVALUATION_BATCH * components,
                "for a mixture of N = " + components + " components over S = " + pixels + " pixels with " + f
                        + " floats each (" + leafFamily + " leaves)", flags);
    }

    /** F, the floats of one pixel's leaf: 2 for Gaussian leaves, 256 for categorical ones, 1 otherwise. */
    static long floatsPerPixel(String leafFamily) {
        return switch (leafFamily) {
            case "gaussian" -> 2;
            case "categorical" -> 256;
            default -> 1;
        };
    }

    /** The floats per pixel of a family's largest tensor: 1 (mean, log_var), or 256 (categorical logits). */
    static long largestTensorPerPixel(String leafFamily) {
        return "categorical".equals(leafFamily) ? 256 : 1;
    }

    /**
     * Checks reading a circuit of {@code parameters} parameters and {@code components} components and
     * querying it in batches of {@value #EVALUATION_BATCH} images.
     *
     * @param request the command, e.g. {@code evaluate --circuit DIR}
     * @throws InvalidArgumentException when it does not fit
     */
    public static void circuit(String request, long parameters, long components) {
        check(request, 2 * FLOAT * parameters, 2 * FLOAT * parameters + 3 * FLOAT * EVALUATION_BATCH * components,
                "for a circuit of " + String.format(Locale.ROOT, "%,d", parameters) + " parameters in "
                        + components + " components", "(a smaller circuit)");
    }

    /**
     * Checks a training of a network whose stages hold {@code channels} channels in all on batches of
     * {@code batch} images of {@code pixels} pixels.
     *
     * @throws InvalidArgumentException when it does not fit, naming {@code --batch}
     */
    public static void training(String request, long batch, long pixels, long channels) {
        check(request, 0, FLOAT * batch * pixels * Math.max(1, channels) * 8,
                "for batches of B = " + batch + " images of " + pixels + " pixels through " + channels
                        + " channels", "--batch");
    }

    /**
     * Refuses a request whose estimate exceeds what the heap or the machine has.
     *
     * @param request     the command and flags that ask for the memory, for the message
     * @param heapBytes   the estimated Java heap (host arrays)
     * @param engineBytes the estimated engine memory (the backend's tensors)
     * @param sizes       what the estimate was made for, e.g. {@code for N = 1000, S = 784}
     * @param flags       the flags that lower the estimate
     * @throws InvalidArgumentException when it does not fit, naming the request, both figures and the flags
     */
    public static void check(String request, long heapBytes, long engineBytes, String sizes, String flags) {
        if (heapBytes < 0 || engineBytes < 0) {
            // the sizes multiply past 2^63 bytes
            throw new InvalidArgumentException(request + " needs more memory than any machine has (" + sizes
                    + "): lower " + flags);
        }
        Runtime rt = Runtime.getRuntime();
        long max = rt.maxMemory();
        long free = max - (rt.totalMemory() - rt.freeMemory());
        long physical = physicalMemory();
        if (heapBytes > free && physical > 0 && heapBytes > physical) {
            throw new InvalidArgumentException(request + " needs about " + format(heapBytes) + " of Java heap " + sizes
                    + ", more than this machine's " + format(physical) + " of memory: lower " + flags);
        }
        if (heapBytes > free) {
            throw new InvalidArgumentException(request + " needs about " + format(heapBytes) + " of Java heap "
                    + sizes + ", but only " + format(free) + " of the heap's " + format(max) + " are free: lower "
                    + flags + ", or raise the heap (e.g. VQDISTILL_JAVA_OPTS=-Xmx"
                    + Math.max(2, (heapBytes * 3 / 2 + (1L << 30) - 1) >> 30) + "g)");
        }
        if (physical > 0 && engineBytes > physical) {
            throw new InvalidArgumentException(request + " needs about " + format(engineBytes) + " of engine memory "
                    + sizes + ", more than this machine's " + format(physical) + ": lower " + flags);
        }
    }

    /**
     * Refuses leaf tensors of {@code components} rows of {@code floatsPerRow} floats that one Java array
     * cannot hold.
     *
     * @throws InvalidArgumentException naming the request, the largest count that fits and the flags
     */
    static void tensor(String request, long components, long floatsPerRow, String flags) {
        long floats = components * floatsPerRow;
        if (floats < 0 || floats > MAX_TENSOR_FLOATS) {
            throw new InvalidArgumentException(request + ": a leaf tensor of " + String.format(Locale.ROOT,
                    "%,d x %,d floats", components, floatsPerRow) + " exceeds the " + String.format(Locale.ROOT,
                    "%,d", MAX_TENSOR_FLOATS) + " values of one Java array (at most " + String.format(Locale.ROOT,
                    "%,d", MAX_TENSOR_FLOATS / floatsPerRow) + " components here): lower " + flags);
        }
    }

    /** The machine's physical memory in bytes, or -1 when the JVM does not report it. */
    public static long physicalMemory() {
        try {
            if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
                return os.getTotalMemorySize();
            }
        } catch (RuntimeException | LinkageError e) {
            // not reported on this platform
        }
        return -1;
    }

    /** A byte count in MiB or GiB, e.g. {@code 8.0 GiB}. */
    public static String format(long bytes) {
        if (bytes >= 1L << 30) {
            return String.format(Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30));
        }
        return String.format(Locale.ROOT, "%d MiB", (bytes + (1L << 20) - 1) >> 20);
    }
}
