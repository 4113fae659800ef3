package io.vqdistill.circuits;

import io.vqdistill.api.Backend;
import io.vqdistill.api.DType;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorException;
import io.vqdistill.api.circuit.Circuit;
import io.vqdistill.api.circuit.LeafFamily;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * What the tensorised circuits ({@link DagCircuit} and the layered Einsum network) share: the
 * tensors they own and release on {@link #close()}, the checks every query starts with, and
 * sampling, which draws batches of rows within the subclass's memory budget, each row by one pass
 * of {@link #draw}.
 */
public abstract class BatchedCircuit implements Circuit {
    /** The leaves' family. */
    protected final LeafFamily family;
    /** The number of variables S. */
    protected final int variables;
    /** The prepared leaf parameters in the family's order; owned by the circuit. */
    protected final Map<String, Tensor> parameters = new LinkedHashMap<>();
    /** The backend the leaf parameters live on, and with them every tensor of the circuit. */
    protected final Backend backend;
    private final List<Tensor> owned = new ArrayList<>();
    private boolean closed;

    /**
     * A circuit over {@code variables} variables whose leaves are of {@code family}: prepares the leaf
     * parameters ({@link LeafFamily#prepare}) and owns the prepared copies.
     *
     * @param leafParameters the family's parameters; the caller still owns these
     */
    protected BatchedCircuit(LeafFamily family, Map<String, Tensor> leafParameters, int variables) {
        this.family = Objects.requireNonNull(family, "family");
        this.variables = variables;
        Map<String, Tensor> prepared = family.prepare(Objects.requireNonNull(leafParameters, "leafParameters"));
        family.parameters().forEach(p -> parameters.put(p.name(), own(prepared.get(p.name()))));
        this.backend = parameters.values().iterator().next().backend();
    }

    @Override
    public final int numVariables() {
        return variables;
    }

    @Override
    public final Backend backend() {
        return backend;
    }

    @Override
    public final LeafFamily leafFamily() {
        return family;
    }

    /** The prepared leaf parameters in the family's order; owned by the circuit, do not close. */
    public final Map<String, Tensor> parameters() {
        return Collections.unmodifiableMap(parameters);
    }

    /** The number of leaf parameters: the elements of all prepared leaf parameter tensors. */
    protected final long leafParameterCount() {
        long count = 0;
        for (Tensor t : parameters.values()) {
            count += t.size();
        }
        return count;
    }

    /** Makes {@code t} one of the tensors this circuit closes on {@link #close()}; returns it. */
    protected final Tensor own(Tensor t) {
        owned.add(t);
        return t;
    }

    /**
     * Throws unless the circuit and all its tensors are open.
     *
     * @param query named in the message
     * @throws TensorException when the circuit or one of its tensors was closed
     */
    protected final void requireOpen(String query) {
        if (closed) {
            throw new TensorException(query + ": the circuit is closed");
        }
        for (Tensor t : owned) {
            if (t.isClosed()) {
                throw new TensorException(query + ": the circuit's tensors were closed; was it created inside a"
                        + " TensorScope that has since closed?");
            }
        }
    }

    /**
     * Checks that the circuit is open and the query's evidence fits it ({@link Evidence#check}).
     *
     * @param observed null when every entry counts as observed
     * @return the number of rows B
     */
    protected final int start(String query, Tensor x, Tensor observed) {
        requireOpen(query);
        return Evidence.check(query, backend, family, variables, x, observed);
    }

    /** The rows of a batch of {@code b} rows that one pass may take, so that its temporaries fit the budget. */
    protected abstract int rows(int b);

    /**
     * One draw from p(x_u | x_o) for every row of one batch: FLOAT32 [b, S], equal to x where observed.
     *
     * @param observed BOOL [b, S]; all false for unconditional samples
     */
    protected abstract Tensor draw(Tensor x, Tensor observed, RandomGenerator rng);

    @Override
    public final Tensor conditionalSample(Tensor x, Tensor observed, RandomGenerator rng) {
        Objects.requireNonNull(rng, "rng");
        int b = start("conditionalSample", x, Objects.requireNonNull(observed, "observed"));
        return Batches.run(x, observed, rows(b), variables, (xb, mb) -> draw(xb, mb, rng));
    }

    @Override
    public final Tensor sample(int n, RandomGenerator rng) {
        Objects.requireNonNull(rng, "rng");
        requireOpen("sample");
        Evidence.checkCount("sample", n);
        try (Tensor x = backend.zeros(DType.FLOAT32, n, variables);
             Tensor none = backend.zeros(DType.BOOL, n, variables)) {
            return Batches.run(x, none, rows(n), variables, (xb, mb) -> draw(xb, mb, rng));
        }
    }

    @Override
    public final void close() {
        if (!closed) {
            closed = true;
            closeOwned();
        }
    }

    /** Closes the tensors owned so far; for a constructor that fails half-way. */
    protected final void closeOwned() {
        owned.forEach(Tensor::close);
        owned.clear();
    }
}
