package io.vqdistill.models.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vqdistill.api.FormatException;
import io.vqdistill.api.model.ImageShape;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

class MnistTest {
    @TempDir
    Path dir;

    @Test
    void loadsRawFilesAndKnowsTheyAreNotTheOriginal() throws Exception {
        IdxFiles.writeMnist(dir, 30, 12, false);
        Mnist m = Mnist.load(dir);
        assertThat(m.trainFile().size()).isEqualTo(30);
        assertThat(m.test().size()).isEqualTo(12);
        assertThat(m.trainFile().shape()).isEqualTo(ImageShape.MNIST);
        assertThat(m.trainFile().label(13)).isEqualTo(3);
        assertThat(m.trainFile().level(2, 5)).isEqualTo(7);
        assertThat(m.isOriginal()).isFalse();
    }

    @Test
    void loadsGzipFiles() throws Exception {
        IdxFiles.writeMnist(dir, 20, 10, true);
        assertThat(Mnist.load(dir).test().label(9)).isEqualTo(9);
    }

    @Test
    void missingFileNamesItAndTheExpectedSet() throws Exception {
        IdxFiles.writeMnist(dir, 20, 10, false);
        Files.delete(dir.resolve(Mnist.TEST_LABELS));
        assertThatThrownBy(() -> Mnist.load(dir)).isInstanceOf(FormatException.class)
                .hasMessageContaining(Mnist.TEST_LABELS).hasMessageContaining(".gz").hasMessageContaining("not found");
    }

    @Test
    @Timeout(30)
    void aNamedPipeInPlaceOfAFileIsReportedAsWhatItIsAndNeverOpened() throws Exception {
        IdxFiles.writeMnist(dir, 20, 10, false);
        Files.delete(dir.resolve(Mnist.TEST_LABELS));
        Process p = new ProcessBuilder("mkfifo", dir.resolve(Mnist.TEST_LABELS).toString()).start();
        Assumptions.assumeTrue(p.waitFor() == 0, "mkfifo");
        assertThatThrownBy(() -> Mnist.load(dir)).isInstanceOf(FormatException.class)
                .hasMessageContaining(Mnist.TEST_LABELS).hasMessageContaining("is a named pipe (FIFO), not a regular file")
                .hasMessageNotContaining("not found");
        assertThatThrownBy(() -> Idx.read(dir.resolve(Mnist.TEST_LABELS))).isInstanceOf(FormatException.class)
                .hasMessageContaining("named pipe");
    }

    @Test
    void aMissingOrWrongFolderIsNamedAsSuch() throws Exception {
        assertThatThrownBy(() -> Mnist.load(dir.resolve("none"))).isInstanceOf(FormatException.class)
                .hasMessageContaining("none: folder: not found");
        Path file = Files.writeString(dir.resolve("file"), "x");
        assertThatThrownBy(() -> Mnist.load(file)).isInstanceOf(FormatException.class)
                .hasMessageContaining("file: folder: is a regular file, not a folder");
    }

    @Test
    void aLimitBeyondTheDataRecordsTheNumbersUsed() throws Exception {
        IdxFiles.writeMnist(dir, 30, 12, false);
        DataSplit split = Mnist.load(dir).split(0, 10);
        DataSplit limited = split.limit(8, 4, 4);
        assertThat(limited.description()).endsWith(" limited to 8/4/4");
        DataSplit beyond = split.limit(100_000, 20_000, 20_000);
        assertThat(beyond.train().size()).isEqualTo(20);
        assertThat(beyond.description()).isEqualTo(split.description()).doesNotContain("100000");
        DataSplit partly = split.limit(100_000, 5, 20_000);
        assertThat(partly.description()).endsWith(" limited to 20/5/12");
    }

    @Test
    void labelsNotMatchingImagesAreAnError() throws Exception {
        IdxFiles.writeMnist(dir, 20, 10, false);
        IdxFiles.write(dir.resolve(Mnist.TRAIN_LABELS), IdxFiles.bytes(new int[] {19}, new byte[19]));
        assertThatThrownBy(() -> Mnist.load(dir)).isInstanceOf(FormatException.class)
                .hasMessageContaining(Mnist.TRAIN_LABELS).hasMessageContaining("count")
                .hasMessageContaining("19 labels do not match the 20 images");
    }

    @Test
    void wrongImageSizeIsAnError() throws Exception {
        IdxFiles.writeMnist(dir, 20, 10, false);
        IdxFiles.write(dir.resolve(Mnist.TEST_IMAGES), IdxFiles.bytes(new int[] {10, 28, 27}, new byte[10 * 28 * 27]));
        assertThatThrownBy(() -> Mnist.load(dir)).isInstanceOf(FormatException.class)
                .hasMessageContaining(Mnist.TEST_IMAGES).hasMessageContaining("28x27");
    }

    @Test
    void labelOutsideDigitsIsAnError() throws Exception {
        IdxFiles.writeMnist(dir, 20, 10, false);
        byte[] labels = new byte[10];
        labels[4] = 12;
        IdxFiles.write(dir.resolve(Mnist.TEST_LABELS), IdxFiles.bytes(new int[] {10}, labels));
        assertThatThrownBy(() -> Mnist.load(dir)).isInstanceOf(FormatException.class)
                .hasMessageContaining(Mnist.TEST_LABELS).hasMessageContaining("label 4").hasMessageContaining("12");
    }

    @Test
    void seededSplitIsDisjointCompleteAndReproducible() throws Exception {
        IdxFiles.writeMnist(dir, 50, 10, false);
        Mnist m = Mnist.load(dir);
        DataSplit a = m.split(7, 12);
        DataSplit b = m.split(7, 12);
        DataSplit c = m.split(8, 12);
        assertThat(a.train().size()).isEqualTo(38);
        assertThat(a.validation().size()).isEqualTo(12);
        assertThat(a.test().size()).isEqualTo(10);
        // every training-file image lands in exactly one part; pixel 0 of image i is i % 256
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < 38; i++) {
            seen.add(a.train().level(i, 0));
        }
        for (int i = 0; i < 12; i++) {
            seen.add(a.validation().level(i, 0));
        }
        assertThat(seen).hasSize(50);
        assertThat(a.validation().labels()).isEqualTo(b.validation().labels());
        assertThat(levelsOf(a.validation())).isEqualTo(levelsOf(b.validation()));
        assertThat(levelsOf(a.validation())).isNotEqualTo(levelsOf(c.validation()));
        assertThat(a.description()).contains("split seed 7").contains("38 train / 12 validation / 10 test");
    }

    @Test
    void permutationIsAPermutation() {
        int[] p = Mnist.permutation(1000, 3);
        assertThat(p).hasSize(1000);
        assertThat(Arrays.stream(p).distinct().count()).isEqualTo(1000);
        assertThat(p).isEqualTo(Mnist.permutation(1000, 3));
    }

    @Test
    void invalidValidationSizeIsAnError() throws Exception {
        IdxFiles.writeMnist(dir, 20, 10, false);
        Mnist m = Mnist.load(dir);
        assertThatThrownBy(() -> m.split(1, 20)).hasMessageContaining("[1, 20)").hasMessageContaining("20");
    }

    @Test
    void officialDigestsAreKnown() {
        assertThat(Mnist.SHA256).containsKeys(Mnist.FILES.toArray(String[]::new));
        assertThat(Mnist.SHA256.values()).allMatch(d -> d.matches("[0-9a-f]{64}"));
    }

    private static int[] levelsOf(ImageSet s) {
        int[] idx = new int[s.size()];
        Arrays.setAll(idx, i -> i);
        return s.levels(idx);
    }
}
