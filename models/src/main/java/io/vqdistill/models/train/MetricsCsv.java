package io.vqdistill.models.train;

import io.vqdistill.api.InvalidArgumentException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;

/**
 * The text of a training run's {@value EpochRunner#METRICS_CSV}, written with Apache Commons CSV:
 * the header {@code epoch,seconds,best} and then the metric names of the first epoch, one row per
 * epoch; seconds with three decimals, {@code true}/{@code false}, every metric with six significant
 * digits ({@code %.6g}), '.' as the decimal point, lines ending in '\n'. A field holding a comma, a
 * quote or a line break is quoted as RFC 4180 says.
 */
public final class MetricsCsv {
    /** The format of the file: RFC 4180 quoting where needed, '\n' between records. */
    public static final CSVFormat FORMAT = CSVFormat.DEFAULT.builder().setRecordSeparator('\n').get();

    private MetricsCsv() {
    }

    /**
     * The file's text for {@code history}, at least one epoch, in order.
     *
     * @throws InvalidArgumentException when {@code history} is empty
     */
    public static String format(List<EpochMetrics> history) {
        if (history.isEmpty()) {
            throw new InvalidArgumentException("a metrics CSV needs at least one epoch");
        }
        List<String> header = new ArrayList<>(List.of("epoch", "seconds", "best"));
        header.addAll(history.get(0).values().keySet());
        StringBuilder text = new StringBuilder();
        try (CSVPrinter out = new CSVPrinter(text, FORMAT)) {
            out.printRecord(header);
            for (EpochMetrics m : history) {
                List<String> row = new ArrayList<>();
                row.add(Integer.toString(m.epoch()));
                row.add(String.format(Locale.ROOT, "%.3f", m.seconds()));
                row.add(Boolean.toString(m.best()));
                for (double v : m.values().values()) {
                    row.add(String.format(Locale.ROOT, "%.6g", v));
                }
                out.printRecord(row);
            }
        } catch (IOException e) {
            throw new AssertionError("a StringBuilder does not throw", e);
        }
        return text.toString();
    }
}
