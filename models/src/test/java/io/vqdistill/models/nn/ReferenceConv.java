package io.vqdistill.models.nn;

/**
 * Ground truth for {@link NetworkOps}: PyTorch's {@code conv2d}, {@code conv_transpose2d} and the
 * activations written as direct double-precision loops over row-major {@code double[]} data, NCHW
 * activations and PyTorch's weight layouts. Nothing is checked here beyond what the loops need;
 * meant for small inputs.
 */
public final class ReferenceConv {
    private ReferenceConv() {
    }

    /**
     * The output shape of {@link #conv2d}: [B, out, (H + 2 padH - kH) / stride + 1, (W + 2 padW - kW) / stride + 1].
     *
     * @param xShape [B, in, H, W]
     * @param wShape [out, in, kH, kW]
     */
    public static long[] conv2dShape(long[] xShape, long[] wShape, int stride, int padH, int padW) {
        return new long[] {xShape[0], wShape[0], (xShape[2] + 2L * padH - wShape[2]) / stride + 1,
            (xShape[3] + 2L * padW - wShape[3]) / stride + 1};
    }

    /**
     * Cross-correlation as PyTorch's {@code conv2d}:
     * {@code y[b, o, i, j] = bias[o] + sum_{c, u, v} x[b, c, i stride - padH + u, j stride - padW + v] w[o, c, u, v]},
     * where positions outside the input count as zero.
     *
     * @param x      [B, in, H, W]
     * @param w      [out, in, kH, kW]
     * @param bias   [out], or null for none
     */
    public static double[] conv2d(double[] x, long[] xShape, double[] w, long[] wShape, double[] bias, int stride,
            int padH, int padW) {
        long[] ys = conv2dShape(xShape, wShape, stride, padH, padW);
        int batch = (int) xShape[0];
        int in = (int) xShape[1];
        int h = (int) xShape[2];
        int wd = (int) xShape[3];
        int out = (int) wShape[0];
        int kh = (int) wShape[2];
        int kw = (int) wShape[3];
        int oh = (int) ys[2];
        int ow = (int) ys[3];
        double[] y = new double[batch * out * oh * ow];
        for (int b = 0; b < batch; b++) {
            for (int o = 0; o < out; o++) {
                for (int i = 0; i < oh; i++) {
                    for (int j = 0; j < ow; j++) {
                        double s = bias == null ? 0 : bias[o];
                        for (int c = 0; c < in; c++) {
                            for (int u = 0; u < kh; u++) {
                                int r = i * stride - padH + u;
                                if (r < 0 || r >= h) {
                                    continue;
                                }
                                for (int v = 0; v < kw; v++) {
                                    int col = j * stride - padW + v;
                                    if (col >= 0 && col < wd) {
                                        s += x[((b * in + c) * h + r) * wd + col] * w[((o * in + c) * kh + u) * kw + v];
                                    }
                                }
                            }
                        }
                        y[((b * out + o) * oh + i) * ow + j] = s;
                    }
                }
            }
        }
        return y;
    }

    /**
     * The output shape of {@link #convTranspose2d}:
     * [B, out, (H - 1) stride - 2 pad + kH + outputPadding, (W - 1) stride - 2 pad + kW + outputPadding].
     *
     * @param xShape [B, in, H, W]
     * @param wShape [in, out, kH, kW]
     */
    public static long[] convTranspose2dShape(long[] xShape, long[] wShape, int stride, int pad, int outputPadding) {
        return new long[] {xShape[0], wShape[1], (xShape[2] - 1) * stride - 2L * pad + wShape[2] + outputPadding,
            (xShape[3] - 1) * stride - 2L * pad + wShape[3] + outputPadding};
    }

    /**
     * The transposed convolution as PyTorch defines it: every input element scatters its kernel,
     * {@code y[b, o, i stride - pad + u, j stride - pad + v] += x[b, c, i, j] w[c, o, u, v]}; targets
     * outside the output are dropped, and the output padding only adds rows and columns at the
     * bottom and right, which hold the bias plus whatever lands there.
     *
     * @param x      [B, in, H, W]
     * @param w      [in, out, kH, kW]
     * @param bias   [out], or null for none
     */
    public static double[] convTranspose2d(double[] x, long[] xShape, double[] w, long[] wShape, double[] bias,
            int stride, int pad, int outputPadding) {
        long[] ys = convTranspose2dShape(xShape, wShape, stride, pad, outputPadding);
        int batch = (int) xShape[0];
        int in = (int) xShape[1];
        int h = (int) xShape[2];
        int wd = (int) xShape[3];
        int out = (int) wShape[1];
        int kh = (int) wShape[2];
        int kw = (int) wShape[3];
        int oh = (int) ys[2];
        int ow = (int) ys[3];
        double[] y = new double[batch * out * oh * ow];
        for (int b = 0; b < batch; b++) {
            for (int o = 0; o < out; o++) {
                double base = bias == null ? 0 : bias[o];
                for (int p = 0; p < oh * ow; p++) {
                    y[(b * out + o) * oh * ow + p] = base;
                }
            }
            for (int c = 0; c < in; c++) {
                for (int i = 0; i < h; i++) {
                    for (int j = 0; j < wd; j++) {
                        double xv = x[((b * in + c) * h + i) * wd + j];
                        for (int o = 0; o < out; o++) {
                            for (int u = 0; u < kh; u++) {
                                int r = i * stride - pad + u;
                                if (r < 0 || r >= oh) {
                                    continue;
                                }
                                for (int v = 0; v < kw; v++) {
                                    int col = j * stride - pad + v;
                                    if (col >= 0 && col < ow) {
                                        y[((b * out + o) * oh + r) * ow + col] += xv * w[((c * out + o) * kh + u) * kw + v];
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return y;
    }

    /** The activation {@code a} of one value. */
    public static double activation(Activation a, double v) {
        return switch (a) {
            case RELU -> Math.max(v, 0);
            case SIGMOID -> v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v));
            case TANH -> Math.tanh(v);
        };
    }

    /** The activation {@code a} of every element. */
    public static double[] activation(Activation a, double[] x) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = activation(a, x[i]);
        }
        return y;
    }
}
