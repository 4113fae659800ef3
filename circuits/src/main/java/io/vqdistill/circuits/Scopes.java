package io.vqdistill.circuits;

import java.util.BitSet;

/** Formats scopes for messages: {@code {0-3, 5, 7-9}}, shortened after a few runs. */
final class Scopes {
    private static final int MAX_RUNS = 8;

    private Scopes() {
    }

    static String format(BitSet scope) {
        StringBuilder sb = new StringBuilder("{");
        int runs = 0;
        for (int i = scope.nextSetBit(0); i >= 0; i = scope.nextSetBit(i + 1)) {
            int end = scope.nextClearBit(i) - 1;
            if (runs == MAX_RUNS) {
                sb.append(", ... (").append(scope.cardinality()).append(" variables)");
                break;
            }
            if (runs > 0) {
                sb.append(", ");
            }
            sb.append(i);
            if (end > i) {
                sb.append('-').append(end);
            }
            runs++;
            i = end;
        }
        return sb.append('}').toString();
    }
}
