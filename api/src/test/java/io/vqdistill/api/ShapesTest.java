package io.vqdistill.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

class ShapesTest {

    @Nested
    class Size {
        @Test
        void isTheProductOfTheLengths() {
            assertThat(Shapes.size(new long[] {2, 3, 4})).isEqualTo(24);
            assertThat(Shapes.size(new long[] {5})).isEqualTo(5);
        }

        @Test
        void isOneForAScalarAndZeroWithAnEmptyAxis() {
            assertThat(Shapes.size(new long[0])).isEqualTo(1);
            assertThat(Shapes.size(new long[] {3, 0, 7})).isZero();
        }

        @Test
        void overflowIsAnError() {
            assertThatThrownBy(() -> Shapes.size(new long[] {1L << 40, 1L << 40}))
                    .isInstanceOf(ArithmeticException.class);
        }
    }

    @Test
    void formatLooksLikeAList() {
        assertThat(Shapes.format(new long[] {2, 3})).isEqualTo("[2, 3]");
        assertThat(Shapes.format(new long[0])).isEqualTo("[]");
    }

    @Nested
    class Axis {
        @Test
        void negativeAxesCountFromTheEnd() {
            assertThat(Shapes.axis(0, 3, "op")).isZero();
            assertThat(Shapes.axis(2, 3, "op")).isEqualTo(2);
            assertThat(Shapes.axis(-1, 3, "op")).isEqualTo(2);
            assertThat(Shapes.axis(-3, 3, "op")).isZero();
        }

        @Test
        void outOfRangeNamesOperationAxisAndRank() {
            assertThatThrownBy(() -> Shapes.axis(3, 3, "argMax")).isInstanceOf(TensorException.class)
                    .hasMessage("argMax: axis 3 out of range for rank 3");
            assertThatThrownBy(() -> Shapes.axis(-4, 3, "sum")).isInstanceOf(TensorException.class)
                    .hasMessage("sum: axis -4 out of range for rank 3");
            assertThatThrownBy(() -> Shapes.axis(0, 0, "max")).isInstanceOf(TensorException.class)
                    .hasMessage("max: axis 0 out of range for rank 0");
        }
    }

    @Nested
    class CheckShape {
        @Test
        void returnsACopyOfAValidShape() {
            long[] s = {2, 0, 3};
            long[] checked = Shapes.checkShape(s, "of");
            assertThat(checked).containsExactly(2, 0, 3).isNotSameAs(s);
            assertThat(Shapes.checkShape(new long[0], "of")).isEmpty();
        }

        @Test
        void negativeLengthIsRejected() {
            assertThatThrownBy(() -> Shapes.checkShape(new long[] {2, -1}, "full")).isInstanceOf(TensorException.class)
                    .hasMessage("full: negative length in shape [2, -1]");
        }
    }

    @Nested
    class Broadcast {
        private long[] b(long[] a, long[] c) {
            return Shapes.broadcast(a, c, "add");
        }

        @Test
        void followsNumPyRules() {
            assertThat(b(new long[] {2, 3}, new long[] {2, 3})).containsExactly(2, 3);
            assertThat(b(new long[] {2, 3}, new long[0])).containsExactly(2, 3);
            assertThat(b(new long[0], new long[0])).isEmpty();
            assertThat(b(new long[] {3, 1}, new long[] {1, 4})).containsExactly(3, 4);
            assertThat(b(new long[] {2, 3, 4}, new long[] {4})).containsExactly(2, 3, 4);
            assertThat(b(new long[] {4}, new long[] {2, 1, 1})).containsExactly(2, 1, 4);
            assertThat(b(new long[] {0, 3}, new long[] {1, 3})).containsExactly(0, 3);
            assertThat(b(new long[] {0}, new long[] {1})).containsExactly(0);
        }

        @Test
        void incompatibleShapesNameBoth() {
            assertThatThrownBy(() -> b(new long[] {2, 3}, new long[] {4})).isInstanceOf(TensorException.class)
                    .hasMessage("add: shapes [2, 3] and [4] do not broadcast");
            assertThatThrownBy(() -> b(new long[] {0}, new long[] {2})).isInstanceOf(TensorException.class)
                    .hasMessageContaining("[0] and [2]");
        }
    }

    @Test
    void reducedRemovesOrKeepsTheAxis() {
        long[] s = {2, 3, 4};
        assertThat(Shapes.reduced(s, 1, false)).containsExactly(2, 4);
        assertThat(Shapes.reduced(s, 1, true)).containsExactly(2, 1, 4);
        assertThat(Shapes.reduced(s, 0, false)).containsExactly(3, 4);
        assertThat(Shapes.reduced(s, 2, false)).containsExactly(2, 3);
        assertThat(Shapes.reduced(new long[] {5}, 0, false)).isEmpty();
        assertThat(s).containsExactly(2, 3, 4);
    }

    @Nested
    class ResolveReshape {
        private long[] r(long[] from, long... to) {
            return Shapes.resolveReshape(from, to, "reshape");
        }

        @Test
        void explicitShapeOfEqualSizePasses() {
            assertThat(r(new long[] {2, 3}, 3, 2)).containsExactly(3, 2);
            assertThat(r(new long[] {1}, new long[0])).isEmpty();
            assertThat(r(new long[0], 1, 1)).containsExactly(1, 1);
        }

        @Test
        void oneMinusOneIsInferred() {
            assertThat(r(new long[] {2, 3}, -1)).containsExactly(6);
            assertThat(r(new long[] {2, 3, 4}, 4, -1)).containsExactly(4, 6);
            assertThat(r(new long[] {0, 3}, -1, 3)).containsExactly(0, 3);
            assertThat(r(new long[] {0, 3}, -1)).containsExactly(0);
        }

        @Test
        void badShapesAreRejected() {
            assertThatThrownBy(() -> r(new long[] {2, 3}, 4, 2)).isInstanceOf(TensorException.class)
                    .hasMessage("reshape: cannot reshape [2, 3] (6 elements) into [4, 2]");
            assertThatThrownBy(() -> r(new long[] {2, 3}, 4, -1)).isInstanceOf(TensorException.class)
                    .hasMessage("reshape: cannot reshape [2, 3] into [4, -1]");
            assertThatThrownBy(() -> r(new long[] {2, 3}, -1, -1)).isInstanceOf(TensorException.class)
                    .hasMessage("reshape: more than one -1 in shape [-1, -1]");
            assertThatThrownBy(() -> r(new long[] {2, 3}, 2, -3)).isInstanceOf(TensorException.class)
                    .hasMessage("reshape: negative length in shape [2, -3]");
            assertThatThrownBy(() -> r(new long[] {0, 3}, 0, -1)).isInstanceOf(TensorException.class)
                    .hasMessage("reshape: cannot reshape [0, 3] into [0, -1]");
        }
    }
}
