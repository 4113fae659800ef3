package io.vqdistill.backend.djl.nn;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class LayersTest {

    /** The transposed convolution against its definition: out[o] += x[i] w[t] where o = 2i - pad + t. */
    @ParameterizedTest
    @CsvSource({"4,1,0,7,7", "3,1,0,4,4", "3,1,1,2,3", "4,1,0,2,5", "3,1,0,7,6", "5,2,1,3,3"})
    void transposedConvolutionMatchesItsDefinition(int k, int pad, int outPad, int h, int w) {
        int cin = 3;
        int cout = 2;
        try (NDManager root = Engine.getEngine(Networks.ENGINE).newBaseManager()) {
            SplittableRandom r = new SplittableRandom(3);
            float[] x = new float[cin * h * w];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) r.nextGaussian();
            }
            float[] weight = new float[cin * cout * k * k];
            for (int i = 0; i < weight.length; i++) {
                weight[i] = (float) r.nextGaussian();
            }
            float[] bias = {(float) r.nextGaussian(), (float) r.nextGaussian()};
            int oh = (h - 1) * 2 - 2 * pad + k + outPad;
            int ow = (w - 1) * 2 - 2 * pad + k + outPad;
            double[] expected = new double[cout * oh * ow];
            for (int co = 0; co < cout; co++) {
                for (int o = 0; o < oh * ow; o++) {
                    expected[co * oh * ow + o] = bias[co];
                }
            }
            for (int ci = 0; ci < cin; ci++) {
                for (int co = 0; co < cout; co++) {
                    for (int i = 0; i < h; i++) {
                        for (int j = 0; j < w; j++) {
                            for (int u = 0; u < k; u++) {
                                for (int v = 0; v < k; v++) {
                                    int oy = 2 * i - pad + u;
                                    int ox = 2 * j - pad + v;
                                    if (oy >= 0 && ox >= 0 && oy < oh && ox < ow) {
                                        expected[(co * oh + oy) * ow + ox] += x[(ci * h + i) * w + j]
                                                * weight[((ci * cout + co) * k + u) * k + v];
                                    }
                                }
                            }
                        }
                    }
                }
            }
            NDArray out = Layers.convTranspose2d(root.create(x, new Shape(1, cin, h, w)),
                    root.create(weight, new Shape(cin, cout, k, k)), root.create(bias, new Shape(cout)), 2, pad, outPad);
            assertThat(out.getShape()).isEqualTo(new Shape(1, cout, oh, ow));
            float[] got = out.toFloatArray();
            for (int i = 0; i < got.length; i++) {
                assertThat((double) got[i]).isCloseTo(expected[i], org.assertj.core.data.Offset.offset(1e-5));
            }
        }
    }
}
