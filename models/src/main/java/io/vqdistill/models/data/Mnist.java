package io.vqdistill.models.data;

import io.vqdistill.api.FormatException;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.model.ImageShape;
import io.vqdistill.formats.FileKind;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * MNIST from a folder holding the four standard IDX files, each raw or gzip-compressed (with a
 * {@code .gz} suffix): 60,000 training and 10,000 test images of 1x28x28 unsigned-byte pixels with
 * labels 0..9. The files are validated on load (magic numbers, dimensions, image and label counts,
 * label range); their SHA-256 digests are compared with those of the original distribution and
 * recorded, so a model's provenance says which data it saw.
 *
 * <p>The paper's protocol holds out 10,000 of the 60,000 training images for validation, chosen by
 * a seeded permutation ({@link #split(long)}); the 10,000 test images stay apart.
 */
public final class Mnist {
    /** The training images file. */
    public static final String TRAIN_IMAGES = "train-images-idx3-ubyte";
    /** The training labels file. */
    public static final String TRAIN_LABELS = "train-labels-idx1-ubyte";
    /** The test images file. */
    public static final String TEST_IMAGES = "t10k-images-idx3-ubyte";
    /** The test labels file. */
    public static final String TEST_LABELS = "t10k-labels-idx1-ubyte";

    /** The four file names, training images first. */
    public static final List<String> FILES = List.of(TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS);

    /** SHA-256 of each original (uncompressed) file. */
    public static final Map<String, String> SHA256 = Map.of(
            TRAIN_IMAGES, "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            TRAIN_LABELS, "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            TEST_IMAGES, "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            TEST_LABELS, "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2");

    /** Images held out of the training file for validation. */
    public static final int VALIDATION_SIZE = 10_000;

    /** Number of classes (digits). */
    public static final int CLASSES = 10;

    private final Path folder;
    private final ImageSet train;
    private final ImageSet test;
    private final boolean original;

    private Mnist(Path folder, ImageSet train, ImageSet test, boolean original) {
        this.folder = folder;
        this.train = train;
        this.test = test;
        this.original = original;
    }

    /**
     * The path of one of the four files in {@code folder}: the raw name if present, else the name
     * with {@code .gz}. Neither present is a {@link FormatException} naming both; a folder that is
     * missing or not a folder, or a name that is a folder, named pipe or device, is one saying what it
     * is (nothing is opened).
     */
    public static Path locate(Path folder, String name) {
        FileKind folderKind = FileKind.of(folder);
        if (folderKind != FileKind.FOLDER) {
            throw FormatException.of(folder, "folder", (folderKind == FileKind.MISSING ? "not found"
                    : "is " + folderKind.words() + ", not a folder") + "; it must hold " + String.join(", ", FILES)
                    + ", each raw or .gz");
        }
        Path raw = folder.resolve(name);
        Path gz = folder.resolve(name + ".gz");
        for (Path p : List.of(raw, gz)) {
            FileKind k = FileKind.of(p);
            if (k == FileKind.REGULAR_FILE) {
                return p;
            }
            if (k != FileKind.MISSING) {
                throw FormatException.of(p, "file", "is " + k.words() + ", not a regular file");
            }
        }
        throw FormatException.of(raw, "file", "not found (nor " + gz.getFileName() + "); the folder must hold "
                + String.join(", ", FILES) + ", each raw or .gz");
    }

    /**
     * Loads and validates the four files of {@code folder}. Files with other content than the
     * original distribution are accepted if they are consistent; {@link #isOriginal()} tells.
     */
    public static Mnist load(Path folder) {
        List<Path> paths = files(folder);
        IdxArray trainImages = Idx.read(paths.get(0));
        IdxArray trainLabels = Idx.read(paths.get(1));
        IdxArray testImages = Idx.read(paths.get(2));
        IdxArray testLabels = Idx.read(paths.get(3));
        boolean original = SHA256.get(TRAIN_IMAGES).equals(trainImages.sha256())
                && SHA256.get(TRAIN_LABELS).equals(trainLabels.sha256())
                && SHA256.get(TEST_IMAGES).equals(testImages.sha256())
                && SHA256.get(TEST_LABELS).equals(testLabels.sha256());
        String origin = original ? "MNIST" : "MNIST-format files (not the original digests)";
        ImageSet train = images(paths.get(0), trainImages, paths.get(1), trainLabels, origin + " train");
        ImageSet test = images(paths.get(2), testImages, paths.get(3), testLabels, origin + " test");
        return new Mnist(folder, train, test, original);
    }

    private static ImageSet images(Path imageFile, IdxArray images, Path labelFile, IdxArray labels,
            String description) {
        if (images.rank() != 3) {
            throw FormatException.of(imageFile, "dimensions", "found " + images.rank() + " dimensions "
                    + Arrays.toString(images.dims()) + ", expected 3 [count, 28, 28]");
        }
        if (images.dim(1) != 28 || images.dim(2) != 28) {
            throw FormatException.of(imageFile, "dimensions", "images are " + images.dim(1) + "x" + images.dim(2)
                    + ", expected 28x28");
        }
        if (labels.rank() != 1) {
            throw FormatException.of(labelFile, "dimensions", "found " + labels.rank() + " dimensions "
                    + Arrays.toString(labels.dims()) + ", expected 1 [count]");
        }
        if (labels.dim(0) != images.dim(0)) {
            throw FormatException.of(labelFile, "count", labels.dim(0) + " labels do not match the " + images.dim(0)
                    + " images of " + imageFile.getFileName());
        }
        int[] l = new int[labels.size()];
        for (int i = 0; i < l.length; i++) {
            l[i] = labels.unsigned(i);
            if (l[i] >= CLASSES) {
                throw FormatException.of(labelFile, "label " + i, "value " + l[i] + " is not a digit 0..9");
            }
        }
        return new ImageSet(ImageShape.MNIST, images.rawBytes(), l, CLASSES, description);
    }

    /** The folder the files were read from. */
    public Path folder() {
        return folder;
    }

    /** True when all four files have the digests of the original distribution. */
    public boolean isOriginal() {
        return original;
    }

    /** All images of the training file, in file order. */
    public ImageSet trainFile() {
        return train;
    }

    /** The test images, in file order. */
    public ImageSet test() {
        return test;
    }

    /**
     * The paper's split: a permutation of the training file drawn from {@code seed} puts its last
     * {@link #VALIDATION_SIZE} images into validation (50,000 / 10,000 on MNIST); the test images
     * stay as they are. The same seed gives the same split on every machine.
     */
    public DataSplit split(long seed) {
        return split(seed, VALIDATION_SIZE);
    }

    /** Like {@link #split(long)} with {@code validationSize} held out, 1 <= validationSize < training images. */
    public DataSplit split(long seed, int validationSize) {
        int n = train.size();
        if (validationSize < 1 || validationSize >= n) {
            throw new InvalidArgumentException("validation size must be in [1, " + n + ") for " + n
                    + " training images, found " + validationSize);
        }
        int[] perm = permutation(n, seed);
        int trainCount = n - validationSize;
        int[] trainIdx = Arrays.copyOfRange(perm, 0, trainCount);
        int[] valIdx = Arrays.copyOfRange(perm, trainCount, n);
        String what = (original ? "MNIST" : "MNIST-format files") + " from " + folder;
        return new DataSplit(
                train.subset(trainIdx, what + ": train (" + trainCount + " of the training file, split seed " + seed
                        + ")"),
                train.subset(valIdx, what + ": validation (" + validationSize + " of the training file, split seed "
                        + seed + ")"),
                test,
                what + ", split seed " + seed + ": " + trainCount + " train / " + validationSize + " validation / "
                        + test.size() + " test");
    }

    /** A uniformly random permutation of 0..n-1 (Fisher-Yates) drawn from {@code seed}. */
    public static int[] permutation(int n, long seed) {
        int[] perm = new int[n];
        for (int i = 0; i < n; i++) {
            perm[i] = i;
        }
        SplittableRandom rng = new SplittableRandom(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        return perm;
    }

    /**
     * The paths of the four files in {@code folder} (raw or {@code .gz}), in the order of
     * {@link #FILES}; a missing one is a {@link FormatException}.
     */
    public static List<Path> files(Path folder) {
        List<Path> out = new ArrayList<>();
        for (String f : FILES) {
            out.add(locate(folder, f));
        }
        return out;
    }
}
