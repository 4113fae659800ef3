package io.vqdistill.circuits;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.circuits.CircuitStructure.Kind;
import java.util.BitSet;
import org.junit.jupiter.api.Test;

/** Structure rules, checked as units are added, with errors naming the unit and the scopes. */
class CircuitBuilderTest {

    @Test
    void scopesAreComputedAndTheStructureIsTopological() {
        CircuitBuilder b = new CircuitBuilder(3);
        int x0 = b.input(0);
        int x1 = b.input(1);
        int x2 = b.input(2);
        int p = b.product(x0, x1);
        int q = b.product(b.input(0), b.input(1));
        int s = b.normalisedSum(new int[] {p, q}, new double[] {0, Math.log(3)});
        b.product(s, x2);
        assertThat(b.scope(s).stream().toArray()).containsExactly(0, 1);
        CircuitStructure st = b.build();
        assertThat(st.root()).isEqualTo(8);
        assertThat(st.numInputs()).isEqualTo(5);
        assertThat(st.numEdges()).isEqualTo(8);
        assertThat(st.kind(8)).isEqualTo(Kind.PRODUCT);
        assertThat(st.children(s)).containsExactly(p, q);
        assertThat(st.logWeights(s)).containsExactly(new double[] {Math.log(0.25), Math.log(0.75)},
                within(1e-12));
        assertThat(st.inputIndex(x2)).isEqualTo(2);
        assertThat(st.inputIndex(5)).isEqualTo(4);
        assertThat(st.variable(5)).isEqualTo(1);
        assertThatThrownBy(() -> st.variable(q)).hasMessage("unit 6 is a PRODUCT unit, not an input");
        assertThat(st.freeWeights()).isEqualTo(1);
    }

    @Test
    void aProductOverOverlappingScopesIsNotDecomposable() {
        CircuitBuilder b = new CircuitBuilder(3);
        int a = b.product(b.input(0), b.input(1));
        int c = b.product(b.input(1), b.input(2));
        assertThatThrownBy(() -> b.product(a, c)).isInstanceOf(InvalidArgumentException.class)
                .hasMessage("product unit 6 is not decomposable: children 2 (scope {0-1}) and 5 (scope {1-2})"
                        + " share {1}");
        int x = b.input(0);
        assertThatThrownBy(() -> b.product(x, x)).hasMessageContaining("not decomposable");
    }

    @Test
    void aSumOverDifferentScopesIsNotSmooth() {
        CircuitBuilder b = new CircuitBuilder(3);
        int a = b.product(b.input(0), b.input(1));
        int c = b.product(b.input(0), b.input(2));
        assertThatThrownBy(() -> b.uniformSum(a, c)).isInstanceOf(InvalidArgumentException.class)
                .hasMessage("sum unit 6 is not smooth: child 2 has scope {0-1} but child 5 has scope {0, 2}");
    }

    @Test
    void sumWeightsMustBeNormalisedFiniteAndOnePerChild() {
        CircuitBuilder b = new CircuitBuilder(1);
        int x = b.input(0);
        int y = b.input(0);
        assertThatThrownBy(() -> b.sum(new int[] {x, y}, new double[] {0, 0}))
                .hasMessageContaining("sum unit 2").hasMessageContaining("logsumexp 0.693")
                .hasMessageContaining("normalisedSum");
        assertThatThrownBy(() -> b.sum(new int[] {x, y}, new double[] {0}))
                .hasMessageContaining("2 children but 1 log weights");
        assertThatThrownBy(() -> b.sum(new int[] {x, y}, new double[] {Double.NaN, 0}))
                .hasMessageContaining("log weight 0 is NaN");
        assertThatThrownBy(() -> b.normalisedSum(new int[] {x, y}, new double[] {Double.NEGATIVE_INFINITY,
                Double.NEGATIVE_INFINITY})).hasMessageContaining("every log weight is -inf");
        int s = b.sum(new int[] {x, y}, new double[] {0, Double.NEGATIVE_INFINITY});
        assertThat(b.build().logWeights(s)).containsExactly(0, Double.NEGATIVE_INFINITY);
    }

    @Test
    void unitsMustExistAndVariablesBeInRange() {
        CircuitBuilder b = new CircuitBuilder(2);
        assertThatThrownBy(() -> b.input(2)).hasMessage("input unit 0: variable 2 is outside [0, 2)");
        int x = b.input(0);
        assertThatThrownBy(() -> b.product(x, 7)).hasMessageContaining("child 7 does not exist");
        assertThatThrownBy(() -> b.product()).hasMessage("product unit 1 needs at least one child");
        assertThatThrownBy(() -> new CircuitBuilder(0)).hasMessageContaining("at least one variable");
    }

    @Test
    void theRootMustCoverEveryVariableAndReachEveryUnit() {
        CircuitBuilder empty = new CircuitBuilder(2);
        assertThatThrownBy(empty::build).hasMessage("the circuit has no units");
        CircuitBuilder partial = new CircuitBuilder(3);
        partial.product(partial.input(0), partial.input(2));
        assertThatThrownBy(partial::build).hasMessageContaining("scope {0, 2}").hasMessageContaining("{1} missing");
        CircuitBuilder stray = new CircuitBuilder(1);
        stray.input(0);
        stray.input(0);
        assertThatThrownBy(stray::build).hasMessage("unit 0 is not reachable from the root (unit 1, the last one added)");
    }

    @Test
    void longScopesAreShortenedInMessages() {
        BitSet s = new BitSet();
        for (int i = 0; i < 40; i += 2) {
            s.set(i);
        }
        assertThat(Scopes.format(s)).isEqualTo("{0, 2, 4, 6, 8, 10, 12, 14, ... (20 variables)}");
    }
}
