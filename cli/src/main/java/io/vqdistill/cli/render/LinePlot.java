package io.vqdistill.cli.render;

import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.formats.AtomicFiles;
import java.awt.BasicStroke;
import java.awt.Color;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.XYStyler;
import org.knowm.xchart.style.lines.SeriesLines;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The plot of a sweep, drawn by XChart: bits per dimension against N = 2^x as a line with points, and
 * optional horizontal dashed reference lines (the exact model's values), with a legend, on a white
 * {@value #WIDTH} x {@value #HEIGHT} chart written as PNG. When the values span more than a factor of
 * {@value #LOG_SPAN} (tiny mixtures can be hundreds of bits per dimension worse than large ones), the
 * value axis is logarithmic.
 */
public final class LinePlot {
    /** Width of the chart in pixels. */
    public static final int WIDTH = 800;
    /** Height of the chart in pixels. */
    public static final int HEIGHT = 500;
    private static final double LOG_SPAN = 3;
    private static final Color LINE = new Color(31, 119, 180);
    private static final Color[] REFERENCE = {new Color(214, 39, 40), new Color(44, 160, 44),
        new Color(148, 103, 189), new Color(140, 86, 75), new Color(227, 119, 194)};

    private LinePlot() {
    }

    /**
     * The chart of {@code bpd[i]} at x = {@code exponents[i]} (N = 2^x, labelled so), called
     * {@code series} in the legend, with a dashed line per entry of {@code references} (labelled with
     * its value).
     *
     * @throws InvalidArgumentException when there is no point or the arrays differ in length
     */
    public static XYChart chart(String title, String series, int[] exponents, double[] bpd,
                                Map<String, Double> references) {
        if (exponents.length == 0 || exponents.length != bpd.length) {
            throw new InvalidArgumentException("a plot needs equally many exponents and values, at least one; found "
                    + exponents.length + " and " + bpd.length);
        }
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (double v : bpd) {
            lo = Math.min(lo, v);
            hi = Math.max(hi, v);
        }
        for (double v : references.values()) {
            lo = Math.min(lo, v);
            hi = Math.max(hi, v);
        }
        boolean log = lo > 0 && hi / lo > LOG_SPAN;
        int xMin = exponents[0];
        int xMax = Math.max(exponents[exponents.length - 1], xMin + 1);

        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle("N (components)")
                .yAxisTitle("test bits per dimension" + (log ? " (log scale)" : "")).build();
        XYStyler styler = chart.getStyler();
        styler.setChartBackgroundColor(Color.WHITE);
        styler.setPlotBackgroundColor(Color.WHITE);
        styler.setLegendPosition(Styler.LegendPosition.InsideNE);
        styler.setXAxisMin((double) xMin);
        styler.setXAxisMax((double) xMax);
        styler.setxAxisTickLabelsFormattingFunction(x -> x == Math.rint(x) ? "2^" + Math.round(x) : "");
        styler.setYAxisLogarithmic(log);
        styler.setYAxisDecimalPattern(log ? "0.###" : "0.000");
        if (!log && hi - lo < 1e-9) {
            double pad = Math.max(0.05, Math.abs(hi) * 0.05);
            styler.setYAxisMin(lo - pad);
            styler.setYAxisMax(hi + pad);
        }
        double[] xs = new double[exponents.length];
        for (int i = 0; i < xs.length; i++) {
            xs[i] = exponents[i];
        }
        XYSeries line = chart.addSeries(series, xs, bpd);
        line.setMarker(SeriesMarkers.CIRCLE);
        line.setMarkerColor(LINE);
        line.setLineColor(LINE);
        line.setLineStyle(new BasicStroke(2f));
        int r = 0;
        for (Map.Entry<String, Double> ref : references.entrySet()) {
            Color c = REFERENCE[r++ % REFERENCE.length];
            XYSeries s = chart.addSeries(String.format(Locale.ROOT, "%s %.3f", ref.getKey(), ref.getValue()),
                    new double[] {xMin, xMax}, new double[] {ref.getValue(), ref.getValue()});
            s.setMarker(SeriesMarkers.NONE);
            s.setLineColor(c);
            s.setLineStyle(SeriesLines.DASH_DASH);
        }
        return chart;
    }

    /** Writes {@code chart} to {@code file} as PNG, atomically. */
    public static void writePng(XYChart chart, Path file) {
        AtomicFiles.write(file, o -> BitmapEncoder.saveBitmap(chart, o, BitmapEncoder.BitmapFormat.PNG));
    }

    /** log2 of each N, a power of two: the x coordinates of the points. */
    public static int[] exponents(List<Integer> ns) {
        return ns.stream().mapToInt(n -> 31 - Integer.numberOfLeadingZeros(n)).toArray();
    }
}
