package io.vqdistill.cli.render;

import io.vqdistill.api.FormatException;
import io.vqdistill.formats.AtomicFiles;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVPrinter;
import org.apache.commons.csv.CSVRecord;

/**
 * A table of strings with a header, written and read as CSV with Apache Commons CSV (RFC 4180
 * quoting, lines ending in '\n'): the data file beside every figure.
 *
 * @param header the column names
 * @param rows   the records, each as long as the header
 */
public record CsvTable(List<String> header, List<List<String>> rows) {
    private static final CSVFormat FORMAT = CSVFormat.DEFAULT.builder().setRecordSeparator('\n').get();

    /** Copies the header and rows and checks their lengths. */
    public CsvTable {
        header = List.copyOf(header);
        List<List<String>> copy = new ArrayList<>();
        for (List<String> r : rows) {
            if (r.size() != header.size()) {
                throw new IllegalArgumentException("a row of " + r.size() + " fields under a header of " + header.size());
            }
            copy.add(List.copyOf(r));
        }
        rows = List.copyOf(copy);
    }

    /** An empty table with {@code header}. */
    public static CsvTable of(String... header) {
        return new CsvTable(List.of(header), List.of());
    }

    /** This table with one more row. */
    public CsvTable with(Object... fields) {
        List<String> r = new ArrayList<>();
        for (Object f : fields) {
            r.add(f instanceof Double d ? Charts.number(d) : String.valueOf(f));
        }
        List<List<String>> all = new ArrayList<>(rows);
        all.add(r);
        return new CsvTable(header, all);
    }

    /** The column {@code name}'s index. */
    public int column(String name) {
        return header.indexOf(name);
    }

    /** Writes the table to {@code file} atomically. */
    public void write(Path file) {
        StringBuilder text = new StringBuilder();
        try (CSVPrinter out = new CSVPrinter(text, FORMAT)) {
            out.printRecord(header);
            for (List<String> r : rows) {
                out.printRecord(r);
            }
        } catch (IOException e) {
            throw new AssertionError("a StringBuilder does not throw", e);
        }
        AtomicFiles.writeString(file, text.toString());
    }

    /**
     * Reads a CSV file with a header line.
     *
     * @throws FormatException when it cannot be read or a record's length differs from the header's
     */
    public static CsvTable read(Path file) {
        try (Reader in = Files.newBufferedReader(file); CSVParser parser = CSVParser.parse(in, FORMAT)) {
            List<CSVRecord> records = parser.getRecords();
            if (records.isEmpty()) {
                throw FormatException.of(file, "header", "the file is empty");
            }
            List<String> header = records.get(0).toList();
            List<List<String>> rows = new ArrayList<>();
            for (int i = 1; i < records.size(); i++) {
                List<String> r = records.get(i).toList();
                if (r.size() != header.size()) {
                    throw FormatException.of(file, "line " + (i + 1), r.size() + " fields under a header of "
                            + header.size());
                }
                rows.add(r);
            }
            return new CsvTable(header, rows);
        } catch (IOException e) {
            throw new FormatException(file + ": cannot read: " + e.getMessage(), e);
        }
    }
}
