package io.vqdistill.models.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vqdistill.api.FormatException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxTest {
    @TempDir
    Path dir;

    private static final byte[] DATA = {0, 1, 2, (byte) 200, (byte) 255, 7};

    @Test
    void readsRawFileWithDimensionsDataAndDigest() throws Exception {
        byte[] content = IdxFiles.bytes(new int[] {2, 3}, DATA);
        IdxArray a = Idx.read(IdxFiles.write(dir.resolve("a"), content));
        assertThat(a.dims()).containsExactly(2, 3);
        assertThat(a.size()).isEqualTo(6);
        assertThat(a.unsigned(3)).isEqualTo(200);
        assertThat(a.unsigned(4)).isEqualTo(255);
        assertThat(a.bytes()).isEqualTo(DATA);
        assertThat(a.sha256()).isEqualTo(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content)));
    }

    @Test
    void readsGzipFileByItsSignatureWhateverTheName() throws Exception {
        byte[] content = IdxFiles.bytes(new int[] {6}, DATA);
        IdxArray raw = Idx.read(IdxFiles.write(dir.resolve("raw"), content));
        IdxArray gz = Idx.read(IdxFiles.writeGzip(dir.resolve("compressed-without-suffix"), content));
        assertThat(gz.bytes()).isEqualTo(DATA);
        assertThat(gz.sha256()).isEqualTo(raw.sha256());
    }

    @Test
    void rejectsMagicNumberWithoutLeadingZeros() throws Exception {
        byte[] content = IdxFiles.bytes(new int[] {6}, DATA);
        content[0] = 0x12;
        Path f = IdxFiles.write(dir.resolve("bad-magic"), content);
        assertThatThrownBy(() -> Idx.read(f)).isInstanceOf(FormatException.class)
                .hasMessageContaining("bad-magic").hasMessageContaining("magic number").hasMessageContaining("0x12000801");
    }

    @Test
    void rejectsUnsupportedTypeCode() throws Exception {
        byte[] content = IdxFiles.bytes(new int[] {6}, DATA);
        content[2] = 0x0D;
        Path f = IdxFiles.write(dir.resolve("floats"), content);
        assertThatThrownBy(() -> Idx.read(f)).isInstanceOf(FormatException.class)
                .hasMessageContaining("floats").hasMessageContaining("type code 0x0d");
    }

    @Test
    void rejectsZeroDimensions() throws Exception {
        Path f = IdxFiles.write(dir.resolve("rank0"), new byte[] {0, 0, 8, 0});
        assertThatThrownBy(() -> Idx.read(f)).hasMessageContaining("rank0").hasMessageContaining("number of dimensions is 0");
    }

    @Test
    void rejectsTruncatedHeader() throws Exception {
        byte[] content = Arrays.copyOf(IdxFiles.bytes(new int[] {2, 3}, DATA), 9);
        Path f = IdxFiles.write(dir.resolve("short-header"), content);
        assertThatThrownBy(() -> Idx.read(f)).isInstanceOf(FormatException.class)
                .hasMessageContaining("short-header").hasMessageContaining("dimensions").hasMessageContaining("needs 12");
    }

    @Test
    void rejectsTruncatedData() throws Exception {
        byte[] content = IdxFiles.bytes(new int[] {2, 3}, DATA);
        Path f = IdxFiles.write(dir.resolve("short-data"), Arrays.copyOf(content, content.length - 2));
        assertThatThrownBy(() -> Idx.read(f)).isInstanceOf(FormatException.class)
                .hasMessageContaining("short-data").hasMessageContaining("truncated")
                .hasMessageContaining("[2, 3] need 6 bytes").hasMessageContaining("found 4");
    }

    @Test
    void rejectsTrailingBytesAsWrongDimensions() throws Exception {
        Path f = IdxFiles.write(dir.resolve("long"), IdxFiles.bytes(new int[] {2, 2}, DATA));
        assertThatThrownBy(() -> Idx.read(f)).isInstanceOf(FormatException.class)
                .hasMessageContaining("long").hasMessageContaining("2 bytes follow the 4 elements");
    }

    @Test
    void rejectsOversizedDimension() throws Exception {
        Path f = IdxFiles.write(dir.resolve("huge"), IdxFiles.bytes(new int[] {-1}, new byte[0]));
        assertThatThrownBy(() -> Idx.read(f)).hasMessageContaining("huge").hasMessageContaining("dimension 0")
                .hasMessageContaining("4294967295");
    }

    @Test
    void rejectsTruncatedGzipStream() throws Exception {
        Path full = IdxFiles.writeGzip(dir.resolve("full.gz"), IdxFiles.bytes(new int[] {6}, DATA));
        byte[] gz = Files.readAllBytes(full);
        Path f = IdxFiles.write(dir.resolve("cut.gz"), Arrays.copyOf(gz, gz.length - 10));
        assertThatThrownBy(() -> Idx.read(f)).isInstanceOf(FormatException.class).hasMessageContaining("cut.gz");
    }

    @Test
    void missingFileIsNamed() {
        assertThatThrownBy(() -> Idx.read(dir.resolve("nothing"))).isInstanceOf(FormatException.class)
                .hasMessageContaining("nothing").hasMessageContaining("not found");
    }
}
