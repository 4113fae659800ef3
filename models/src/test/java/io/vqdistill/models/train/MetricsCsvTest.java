package io.vqdistill.models.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vqdistill.api.InvalidArgumentException;
import java.io.StringReader;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.Test;

class MetricsCsvTest {
    private static EpochMetrics epoch(int epoch, double seconds, boolean best, double loss, double bpd) {
        Map<String, Double> values = new LinkedHashMap<>();
        values.put("train_loss", loss);
        values.put("val_bpd", bpd);
        return new EpochMetrics(epoch, seconds, best, values);
    }

    @Test
    void keepsTheColumnsAndNumberFormatsOfEarlierFiles() {
        String text = MetricsCsv.format(List.of(epoch(1, 12.34567, true, -110.5, 1.0 / 3),
                epoch(2, 3, false, 1234567.0, 2e-7)));
        assertThat(text).isEqualTo("epoch,seconds,best,train_loss,val_bpd\n"
                + "1,12.346,true,-110.500,0.333333\n"
                + "2,3.000,false,1.23457e+06,2.00000e-07\n");
    }

    @Test
    void quotesAMetricNameHoldingACommaOrAQuoteAndReadsBack() throws Exception {
        Map<String, Double> values = new LinkedHashMap<>();
        values.put("loss, smoothed", 1.5);
        values.put("say \"hi\"", 2.0);
        String text = MetricsCsv.format(List.of(new EpochMetrics(1, 1, true, values)));
        assertThat(text.lines().findFirst()).contains("epoch,seconds,best,\"loss, smoothed\",\"say \"\"hi\"\"\"");
        try (CSVParser parser = CSVParser.parse(new StringReader(text), MetricsCsv.FORMAT)) {
            List<CSVRecord> records = parser.getRecords();
            assertThat(records).hasSize(2);
            assertThat(records.get(0).toList()).containsExactly("epoch", "seconds", "best", "loss, smoothed",
                    "say \"hi\"");
            assertThat(records.get(1).toList()).containsExactly("1", "1.000", "true", "1.50000", "2.00000");
        }
    }

    @Test
    void anEmptyHistoryIsRefused() {
        assertThatThrownBy(() -> MetricsCsv.format(List.of())).isInstanceOf(InvalidArgumentException.class);
    }
}
