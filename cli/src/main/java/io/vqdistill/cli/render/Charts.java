package io.vqdistill.cli.render;

import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.formats.AtomicFiles;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;
import org.knowm.xchart.AnnotationLine;
import org.knowm.xchart.AnnotationText;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The charts of the reproduction, drawn by XChart: grouped class histograms on a logarithmic count
 * axis, bits per dimension against the parameter count on a symmetric-log axis, and corner plots
 * (pairwise scatter plots with histograms on the diagonal) assembled from one small XChart chart
 * per cell.
 */
public final class Charts {
    /** Width of a full chart in pixels. */
    public static final int WIDTH = 900;
    /** Width of a chart with its legend beside the plot, in pixels. */
    public static final int WIDE = 1150;
    /** Height of a full chart in pixels. */
    public static final int HEIGHT = 520;
    /** Side of one cell of a corner plot in pixels. */
    public static final int CELL = 210;
    /** Bins of a corner plot's histograms. */
    public static final int BINS = 30;
    /** The ratio of the largest to the smallest value above which a value axis is logarithmic. */
    private static final double LOG_SPAN = 3;
    /** On a logarithmic axis an error bar reaches down to at most this share of its value. */
    private static final double LOG_BAR_CUT = 0.9;
    /** The share of the lowest values of each variable a corner plot leaves outside its axes. */
    public static final double CORNER_TAIL = 0.05;
    /** How far right of its point a point's label is centred, in decades of the parameter axis. */
    private static final double LABEL_SHIFT = 0.15;
    private static final Color[] PALETTE = {new Color(31, 119, 180), new Color(214, 39, 40), new Color(140, 86, 75),
        new Color(127, 127, 127), new Color(148, 103, 189), new Color(44, 160, 44), new Color(255, 127, 14),
        new Color(23, 190, 207), new Color(188, 189, 34), new Color(227, 119, 194)};

    private Charts() {
    }

    /** The i-th colour of the palette (blue, red, brown, grey, purple, green, ...). */
    public static Color colour(int i) {
        return PALETTE[Math.floorMod(i, PALETTE.length)];
    }

    private static void white(Styler s) {
        s.setChartBackgroundColor(Color.WHITE);
        s.setPlotBackgroundColor(Color.WHITE);
    }

    /**
     * Bars grouped by class, one series per entry of {@code series} (its counts per class), on a
     * logarithmic count axis: a bar's height is log10 of its count, the axis labelled in powers of
     * ten; a zero count draws no bar.
     *
     * @throws InvalidArgumentException when there is no series or the series differ in length
     */
    public static CategoryChart classHistogram(String title, Map<String, long[]> series) {
        if (series.isEmpty()) {
            throw new InvalidArgumentException("a class histogram needs at least one series");
        }
        int classes = series.values().iterator().next().length;
        List<String> labels = new ArrayList<>();
        for (int c = 0; c < classes; c++) {
            labels.add(Integer.toString(c));
        }
        CategoryChart chart = new CategoryChartBuilder().width(WIDE).height(HEIGHT).title(title).xAxisTitle("class")
                .yAxisTitle("count (log scale)").build();
        white(chart.getStyler());
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        chart.getStyler().setAvailableSpaceFill(0.85);
        chart.getStyler().setyAxisTickLabelsFormattingFunction(v -> Math.abs(v - Math.rint(v)) < 1e-9
                ? String.format(Locale.ROOT, "%,d", Math.round(Math.pow(10, v))) : "");
        double top = 1;
        int i = 0;
        for (Map.Entry<String, long[]> e : series.entrySet()) {
            if (e.getValue().length != classes) {
                throw new InvalidArgumentException("series '" + e.getKey() + "' has " + e.getValue().length
                        + " classes, the first " + classes);
            }
            List<Number> heights = new ArrayList<>();
            for (long v : e.getValue()) {
                heights.add(v > 0 ? Math.log10(v) : null);
                top = Math.max(top, v > 0 ? Math.log10(v) : 0);
            }
            chart.addSeries(e.getKey(), labels, heights).setFillColor(colour(i++));
        }
        chart.getStyler().setYAxisMin(0.0);
        chart.getStyler().setYAxisMax(Math.ceil(top + 0.05));
        return chart;
    }

    /**
     * One curve or set of points of bits per dimension against parameters.
     *
     * @param name       the legend entry
     * @param parameters the parameter counts, > 0
     * @param bpd        the bits per dimension
     * @param std        the standard deviation of each point's bits per dimension over independently
     *                   trained models, drawn as error bars, or null for none
     * @param labels     a label per point (e.g. K of an exact model), or null for none
     * @param line       join the points by a line (a sweep) or not (single models)
     */
    public record Curve(String name, double[] parameters, double[] bpd, double[] std, String[] labels, boolean line) {
        /** Checks the lengths. */
        public Curve {
            if (parameters.length == 0 || parameters.length != bpd.length
                    || labels != null && labels.length != parameters.length
                    || std != null && std.length != parameters.length) {
                throw new InvalidArgumentException("curve '" + name + "' needs equally many parameter counts, values"
                        + " and labels, at least one; found " + parameters.length + ", " + bpd.length + ", "
                        + (labels == null ? "no" : labels.length));
            }
        }
    }

    /** sign(x) log10(1 + |x|): the symmetric-log coordinate of a parameter count. */
    public static double symlog(double x) {
        return Math.signum(x) * Math.log10(1 + Math.abs(x));
    }

    /**
     * Bits per dimension against the parameter count on a symmetric-log axis (log10(1 + x), labelled
     * in powers of ten), one series per curve with square markers, the curves' point labels beside
     * their points, error bars of one standard deviation where a curve has them (cut at
     * {@value #LOG_BAR_CUT} of the value on a logarithmic axis), and a dotted vertical line at each of
     * {@code vqvaeSizes} (the source networks' parameter counts).
     */
    public static XYChart bpdOverlay(String title, List<Curve> curves, List<Double> vqvaeSizes) {
        if (curves.isEmpty()) {
            throw new InvalidArgumentException("an overlay needs at least one curve");
        }
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (Curve c : curves) {
            for (double p : c.parameters()) {
                lo = Math.min(lo, symlog(p));
                hi = Math.max(hi, symlog(p));
            }
        }
        for (double v : vqvaeSizes) {
            lo = Math.min(lo, symlog(v));
            hi = Math.max(hi, symlog(v));
        }
        double yLo = Double.POSITIVE_INFINITY;
        double yHi = Double.NEGATIVE_INFINITY;
        for (Curve c : curves) {
            for (double v : c.bpd()) {
                yLo = Math.min(yLo, v);
                yHi = Math.max(yHi, v);
            }
        }
        // logarithmic where the values span a wide range across a power of ten (the axis labels those only)
        boolean logY = yLo > 0 && yHi / yLo > LOG_SPAN && Math.floor(Math.log10(yLo)) < Math.floor(Math.log10(yHi));
        XYChart chart = new XYChartBuilder().width(WIDE).height(HEIGHT).title(title)
                .xAxisTitle("parameters (symmetric log scale)")
                .yAxisTitle("test bits per dimension" + (logY ? " (log scale)" : "")).build();
        white(chart.getStyler());
        chart.getStyler().setYAxisLogarithmic(logY);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        chart.getStyler().setXAxisMin(Math.floor(lo));
        chart.getStyler().setXAxisMax(Math.ceil(hi + 0.01));
        chart.getStyler().setxAxisTickLabelsFormattingFunction(x -> Math.abs(x - Math.rint(x)) < 1e-9
                ? "1e" + Math.round(x) : "");
        chart.getStyler().setYAxisDecimalPattern(logY ? "0.#" : "0.00");
        chart.getStyler().setMarkerSize(9);
        chart.getStyler().setErrorBarsColorSeriesColor(true);
        chart.getStyler().setAnnotationLineColor(Color.DARK_GRAY);
        chart.getStyler().setAnnotationLineStroke(new BasicStroke(1.2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER,
                10f, new float[] {2f, 4f}, 0f));
        chart.getStyler().setAnnotationTextFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        int i = 0;
        for (Curve c : curves) {
            double[] xs = new double[c.parameters().length];
            for (int p = 0; p < xs.length; p++) {
                xs[p] = symlog(c.parameters()[p]);
            }
            XYSeries s = c.std() == null ? chart.addSeries(c.name(), xs, c.bpd())
                    : chart.addSeries(c.name(), xs, c.bpd(), errorBars(c, logY));
            Color colour = colour(i++);
            s.setMarker(SeriesMarkers.SQUARE);
            s.setMarkerColor(colour);
            s.setLineColor(colour);
            s.setXYSeriesRenderStyle(c.line() ? XYSeries.XYSeriesRenderStyle.Line : XYSeries.XYSeriesRenderStyle.Scatter);
            if (c.labels() != null) {
                for (int p = 0; p < xs.length; p++) {
                    chart.addAnnotation(new AnnotationText(c.labels()[p], xs[p] + LABEL_SHIFT, c.bpd()[p], false));
                }
            }
        }
        for (double v : vqvaeSizes) {
            chart.addAnnotation(new AnnotationLine(symlog(v), true, false));
        }
        return chart;
    }

    /**
     * The curve of a prior's mass held by its most probable grids (the paper's Figure 1): the mean
     * {@code mean} against the share {@code fractions} of the grids in percent, a shaded band of one
     * standard deviation {@code std} around it, the uniform prior's diagonal, and a red vertical line
     * at each of {@code marks}, the shares of the grids where the mean reaches {@code levels}.
     */
    public static XYChart massCurve(String title, double[] fractions, double[] mean, double[] std, double[] levels,
            double[] marks) {
        if (fractions.length < 2 || mean.length != fractions.length || std.length != fractions.length) {
            throw new InvalidArgumentException("a mass curve needs equally many shares, means and deviations, at least"
                    + " two; found " + fractions.length + ", " + mean.length + ", " + std.length);
        }
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title)
                .xAxisTitle("share of the grids, most probable first (%)").yAxisTitle("F: cumulative mass of p(z)")
                .build();
        white(chart.getStyler());
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideSE);
        chart.getStyler().setPlotGridLinesVisible(false);
        chart.getStyler().setXAxisMin(0.0);
        chart.getStyler().setXAxisMax(100.0);
        chart.getStyler().setYAxisMin(0.0);
        chart.getStyler().setYAxisMax(1.0);
        chart.getStyler().setYAxisDecimalPattern("0.0");
        chart.getStyler().setXAxisDecimalPattern("0");
        chart.getStyler().setMarkerSize(0);
        chart.getStyler().setAnnotationLineColor(Color.RED);
        chart.getStyler().setAnnotationLineStroke(new BasicStroke(1.5f));
        chart.getStyler().setAnnotationTextFontColor(Color.RED);
        chart.getStyler().setAnnotationTextFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        double[] x = new double[fractions.length];
        double[] upper = new double[fractions.length];
        double[] lower = new double[fractions.length];
        for (int i = 0; i < x.length; i++) {
            x[i] = 100 * fractions[i];
            upper[i] = Math.min(1, mean[i] + std[i]);
            lower[i] = Math.max(0, mean[i] - std[i]);
        }
        Color blue = colour(0);
        // the band: the area under mean + std in light blue, then the area under mean - std in white over it
        band(chart, "upper", x, upper, new Color(blue.getRed(), blue.getGreen(), blue.getBlue(), 70));
        band(chart, "lower", x, lower, Color.WHITE);
        XYSeries uniform = chart.addSeries("uniform prior", new double[] {0, 100}, new double[] {0, 1});
        uniform.setLineColor(colour(5));
        uniform.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        XYSeries pixelcnn = chart.addSeries("PixelCNN prior (mean ± std)", x, mean);
        pixelcnn.setLineColor(blue);
        pixelcnn.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        for (int l = 0; l < marks.length; l++) {
            chart.addAnnotation(new AnnotationLine(100 * marks[l], true, false));
            // the label beside its line, on the side with more room
            double at = 100 * marks[l] + (marks[l] < 0.5 ? 15 : -15);
            chart.addAnnotation(new AnnotationText(String.format(Locale.ROOT, "%.0f%% of the mass: %.2f%%",
                    100 * levels[l], 100 * marks[l]), at, 0.1 + 0.08 * l, false));
        }
        return chart;
    }

    private static void band(XYChart chart, String name, double[] x, double[] y, Color colour) {
        XYSeries s = chart.addSeries(name, x, y);
        s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Area);
        s.setFillColor(colour);
        s.setLineColor(colour);
        s.setShowInLegend(false);
    }

    /**
     * The error bars of {@code c}: its standard deviations, on a logarithmic axis cut to
     * {@value #LOG_BAR_CUT} of each value, since the axis cannot show a bar reaching zero.
     */
    private static double[] errorBars(Curve c, boolean logY) {
        double[] bars = c.std().clone();
        if (logY) {
            for (int i = 0; i < bars.length; i++) {
                bars[i] = Math.min(bars[i], LOG_BAR_CUT * c.bpd()[i]);
            }
        }
        return bars;
    }

    /**
     * A corner plot of {@code columns.length} variables observed together {@code columns[0].length}
     * times: below the diagonal the scatter plot of each pair, on the diagonal each variable's
     * histogram ({@value #BINS} bins), above it nothing; {@code names} label the axes.
     */
    public static BufferedImage corner(String title, String[] names, double[][] columns, Color colour) {
        int k = columns.length;
        if (k == 0 || names.length != k) {
            throw new InvalidArgumentException("a corner plot needs a name per variable, at least one; found "
                    + names.length + " names for " + k + " variables");
        }
        int titleHeight = 30;
        BufferedImage out = new BufferedImage(k * CELL, k * CELL + titleHeight, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        try {
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, out.getWidth(), out.getHeight());
            XYChart heading = new XYChartBuilder().width(k * CELL).height(titleHeight).title(title).build();
            white(heading.getStyler());
            heading.getStyler().setLegendVisible(false);
            heading.getStyler().setAxisTicksVisible(false);
            heading.getStyler().setPlotBorderVisible(false);
            heading.getStyler().setPlotGridLinesVisible(false);
            heading.addSeries(" ", new double[] {0}, new double[] {0}).setMarker(SeriesMarkers.NONE);
            g.drawImage(BitmapEncoder.getBufferedImage(heading), 0, 0, null);
            double[] from = new double[k];
            for (int v = 0; v < k; v++) {
                double[] sorted = columns[v].clone();
                Arrays.sort(sorted);
                from[v] = sorted[(int) Math.floor(CORNER_TAIL * (sorted.length - 1))];
            }
            for (int row = 0; row < k; row++) {
                for (int col = 0; col <= row; col++) {
                    XYChart cell = row == col ? histogram(names[row], columns[row], from[row], colour)
                            : scatter(names[col], names[row], columns[col], columns[row], from[col], from[row], colour);
                    g.drawImage(BitmapEncoder.getBufferedImage(cell), col * CELL, titleHeight + row * CELL, null);
                }
            }
        } finally {
            g.dispose();
        }
        return out;
    }

    private static XYChart cellChart(String x, String y) {
        XYChart chart = new XYChartBuilder().width(CELL).height(CELL).xAxisTitle(x).yAxisTitle(y).build();
        white(chart.getStyler());
        chart.getStyler().setLegendVisible(false);
        chart.getStyler().setChartPadding(4);
        chart.getStyler().setAxisTickLabelsFont(new Font(Font.SANS_SERIF, Font.PLAIN, 9));
        chart.getStyler().setAxisTitleFont(new Font(Font.SANS_SERIF, Font.PLAIN, 10));
        chart.getStyler().setXAxisDecimalPattern("0");
        chart.getStyler().setYAxisDecimalPattern("0");
        chart.getStyler().setXAxisTickMarkSpacingHint(120);
        return chart;
    }

    private static XYChart scatter(String x, String y, double[] xs, double[] ys, double xFrom, double yFrom,
            Color colour) {
        XYChart chart = cellChart(x, y);
        chart.getStyler().setMarkerSize(4);
        List<Double> px = new ArrayList<>();
        List<Double> py = new ArrayList<>();
        for (int i = 0; i < xs.length; i++) {
            if (xs[i] >= xFrom && ys[i] >= yFrom) {
                px.add(xs[i]);
                py.add(ys[i]);
            }
        }
        XYSeries s = chart.addSeries("points", px, py);
        s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        s.setMarker(SeriesMarkers.CIRCLE);
        s.setMarkerColor(new Color(colour.getRed(), colour.getGreen(), colour.getBlue(), 150));
        return chart;
    }

    private static XYChart histogram(String x, double[] values, double from, Color colour) {
        double lo = from;
        double hi = Double.NEGATIVE_INFINITY;
        for (double v : values) {
            hi = Math.max(hi, v);
        }
        double width = hi > lo ? (hi - lo) / BINS : 1;
        double[] edges = new double[BINS + 1];
        double[] counts = new double[BINS + 1];
        for (int b = 0; b <= BINS; b++) {
            edges[b] = lo + b * width;
        }
        for (double v : values) {
            if (v >= lo) {
                counts[Math.min(BINS - 1, (int) ((v - lo) / width))]++;
            }
        }
        counts[BINS] = counts[BINS - 1];
        XYChart chart = cellChart(x, "count");
        XYSeries s = chart.addSeries("histogram", edges, counts);
        s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.StepArea);
        s.setMarker(SeriesMarkers.NONE);
        s.setLineColor(colour);
        s.setFillColor(new Color(colour.getRed(), colour.getGreen(), colour.getBlue(), 120));
        return chart;
    }

    /** {@code panels} side by side on white, top-aligned. */
    public static BufferedImage sideBySide(List<BufferedImage> panels) {
        int width = 0;
        int height = 0;
        for (BufferedImage p : panels) {
            width += p.getWidth();
            height = Math.max(height, p.getHeight());
        }
        BufferedImage out = new BufferedImage(Math.max(1, width), Math.max(1, height), BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        try {
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, out.getWidth(), out.getHeight());
            int x = 0;
            for (BufferedImage p : panels) {
                g.drawImage(p, x, 0, null);
                x += p.getWidth();
            }
        } finally {
            g.dispose();
        }
        return out;
    }

    /** Writes {@code chart} to {@code file} as PNG, atomically. */
    public static void writePng(Chart<?, ?> chart, Path file) {
        AtomicFiles.write(file, o -> BitmapEncoder.saveBitmap(chart, o, BitmapEncoder.BitmapFormat.PNG));
    }

    /** Writes {@code image} to {@code file} as PNG, atomically. */
    public static void writePng(BufferedImage image, Path file) {
        AtomicFiles.write(file, o -> {
            if (!ImageIO.write(image, "png", o)) {
                throw new IOException("no PNG writer in this JDK");
            }
        });
    }

    /** A number as the CSV files write it: '.' as the decimal point, six decimals. */
    public static String number(double v) {
        return String.format(Locale.ROOT, "%.6f", v);
    }
}
