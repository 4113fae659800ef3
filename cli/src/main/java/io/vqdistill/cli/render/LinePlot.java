package io.vqdistill.cli.render;

import io.vqdistill.api.InvalidArgumentException;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The plot of a sweep drawn with java.awt: bits per dimension against log2 N as a line with points,
 * and optional horizontal reference lines (the exact model's values), on a white PNG-ready image.
 * When the values span more than a factor of {@value #LOG_SPAN} (tiny mixtures can be hundreds of
 * bits per dimension worse than large ones), the value axis is logarithmic.
 */
public final class LinePlot {
    private static final int WIDTH = 800;
    private static final int HEIGHT = 500;
    private static final int LEFT = 100;
    private static final int RIGHT = 30;
    private static final double LOG_SPAN = 3;
    private static final int TOP = 50;
    private static final int BOTTOM = 60;
    private static final int Y_TICKS = 5;
    private static final Color LINE = new Color(31, 119, 180);
    private static final Color[] REFERENCE = {new Color(214, 39, 40), new Color(44, 160, 44),
        new Color(148, 103, 189), new Color(140, 86, 75), new Color(227, 119, 194)};

    private LinePlot() {
    }

    /**
     * Draws {@code bpd[i]} at x = {@code exponents[i]} (N = 2^x), labelled {@code series}, with a
     * dashed line per entry of {@code references}.
     *
     * @throws InvalidArgumentException when there is no point or the arrays differ in length
     */
    public static BufferedImage draw(String title, String series, int[] exponents, double[] bpd,
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
        if (log) {
            lo = Math.log(lo);
            hi = Math.log(hi);
        }
        double pad = hi > lo ? (hi - lo) * 0.08 : Math.max(0.05, Math.abs(hi) * 0.05);
        lo -= pad;
        hi += pad;
        int xMin = exponents[0];
        int xMax = Math.max(exponents[exponents.length - 1], xMin + 1);

        BufferedImage img = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, WIDTH, HEIGHT);
            int plotW = WIDTH - LEFT - RIGHT;
            int plotH = HEIGHT - TOP - BOTTOM;
            Axis ax = new Axis(xMin, xMax, lo, hi, plotW, plotH, log);

            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            for (int e = xMin; e <= xMax; e++) {
                int x = ax.x(e);
                g.setColor(new Color(230, 230, 230));
                g.drawLine(x, TOP, x, TOP + plotH);
                g.setColor(Color.BLACK);
                g.drawLine(x, TOP + plotH, x, TOP + plotH + 4);
                String label = "2^" + e;
                g.drawString(label, x - g.getFontMetrics().stringWidth(label) / 2, TOP + plotH + 18);
            }
            for (int t = 0; t <= Y_TICKS; t++) {
                double u = lo + (hi - lo) * t / Y_TICKS;
                double v = log ? Math.exp(u) : u;
                int y = ax.y(v);
                g.setColor(new Color(230, 230, 230));
                g.drawLine(LEFT, y, LEFT + plotW, y);
                g.setColor(Color.BLACK);
                g.drawLine(LEFT - 4, y, LEFT, y);
                String label = String.format(Locale.ROOT, log ? "%.4g" : "%.3f", v);
                g.drawString(label, LEFT - 8 - g.getFontMetrics().stringWidth(label), y + 4);
            }
            g.setColor(Color.BLACK);
            g.drawRect(LEFT, TOP, plotW, plotH);
            g.drawString("N (components)", LEFT + plotW / 2 - 45, HEIGHT - 20);
            Graphics2D rotated = (Graphics2D) g.create();
            rotated.rotate(-Math.PI / 2);
            rotated.drawString("test bits per dimension" + (log ? " (log scale)" : ""), -(TOP + plotH / 2) - 80, 18);
            rotated.dispose();
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
            g.drawString(title, LEFT, TOP - 20);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));

            int legendW = 20;
            legendW += 15 + g.getFontMetrics().stringWidth(series);
            for (Map.Entry<String, Double> ref : references.entrySet()) {
                legendW = Math.max(legendW, 35 + g.getFontMetrics().stringWidth(String.format(Locale.ROOT, "%s %.3f",
                        ref.getKey(), ref.getValue())));
            }
            int legendX = LEFT + plotW - legendW - 15;
            g.setColor(Color.WHITE);
            g.fillRect(legendX - 5, TOP + 5, legendW + 15, 18 * (references.size() + 1) + 8);
            g.setColor(Color.GRAY);
            g.drawRect(legendX - 5, TOP + 5, legendW + 15, 18 * (references.size() + 1) + 8);
            int legendY = TOP + 20;
            int r = 0;
            for (Map.Entry<String, Double> ref : references.entrySet()) {
                Color c = REFERENCE[r++ % REFERENCE.length];
                int y = ax.y(ref.getValue());
                g.setColor(c);
                g.setStroke(new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f,
                        new float[] {6f, 4f}, 0f));
                g.drawLine(LEFT, y, LEFT + plotW, y);
                legendY += 18;
                g.drawLine(legendX, legendY - 4, legendX + 20, legendY - 4);
                g.setColor(Color.BLACK);
                g.drawString(String.format(Locale.ROOT, "%s %.3f", ref.getKey(), ref.getValue()), legendX + 25,
                        legendY);
            }
            g.setColor(LINE);
            g.setStroke(new BasicStroke(2f));
            for (int i = 1; i < bpd.length; i++) {
                g.drawLine(ax.x(exponents[i - 1]), ax.y(bpd[i - 1]), ax.x(exponents[i]), ax.y(bpd[i]));
            }
            for (int i = 0; i < bpd.length; i++) {
                g.fillOval(ax.x(exponents[i]) - 4, ax.y(bpd[i]) - 4, 8, 8);
            }
            g.drawLine(legendX, TOP + 16, legendX + 20, TOP + 16);
            g.setColor(Color.BLACK);
            g.drawString(series, legendX + 25, TOP + 20);
        } finally {
            g.dispose();
        }
        return img;
    }

    /** Maps data coordinates to pixels. */
    private record Axis(int xMin, int xMax, double lo, double hi, int plotW, int plotH, boolean log) {
        int x(double e) {
            return LEFT + (int) Math.round((e - xMin) / (xMax - xMin) * plotW);
        }

        int y(double v) {
            double u = log ? Math.log(v) : v;
            return TOP + (int) Math.round((hi - u) / (hi - lo) * plotH);
        }
    }

    /** log2 of each N, a power of two: the x coordinates of the points. */
    public static int[] exponents(List<Integer> ns) {
        return ns.stream().mapToInt(n -> 31 - Integer.numberOfLeadingZeros(n)).toArray();
    }
}
