package io.vqdistill.api;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Collects every tensor created on the current thread while it is open and closes them all when it
 * closes, except the ones handed to {@link #keep(Tensor)}. Scopes nest; a kept tensor moves to the
 * enclosing scope, if any.
 *
 * <pre>{@code
 * try (TensorScope scope = TensorScope.open()) {
 *     Tensor a = x.mul(y);              // closed at the end of the block
 *     return scope.keep(a.sumAll());    // survives
 * }
 * }</pre>
 *
 * Scopes are confined to the thread that opened them: keeping or closing from another thread is a
 * {@link TensorException}.
 */
public final class TensorScope implements AutoCloseable {
    private static final ThreadLocal<Deque<TensorScope>> STACK = ThreadLocal.withInitial(ArrayDeque::new);

    private final Map<Tensor, Long> tracked = new IdentityHashMap<>();
    private long sequence;
    private final Thread owner = Thread.currentThread();
    private boolean closed;

    private TensorScope() {
    }

    /** Opens a scope on the current thread. */
    public static TensorScope open() {
        TensorScope scope = new TensorScope();
        STACK.get().push(scope);
        return scope;
    }

    /**
     * Registers a newly created tensor with the innermost open scope of this thread, if any.
     * Backends call this for every tensor they create.
     */
    public static <T extends Tensor> T track(T tensor) {
        TensorScope top = STACK.get().peek();
        if (top != null) {
            top.tracked.put(tensor, top.sequence++);
        }
        return tensor;
    }

    /**
     * Removes {@code tensor} from every open scope of this thread, so that no scope closes it: for
     * long-lived tensors (model or circuit parameters) created while a scope happens to be open. The
     * caller then closes it.
     */
    public static <T extends Tensor> T detach(T tensor) {
        for (TensorScope s : STACK.get()) {
            s.tracked.remove(tensor);
        }
        return tensor;
    }

    /**
     * Runs {@code work} as if no scope were open on this thread, so that the tensors it creates and
     * keeps belong to no scope (scopes it opens itself work as usual), and returns its result: for
     * long-lived tensors built lazily (a circuit's prepared kernels) while a caller's scope happens
     * to be open. The caller then closes them. The open scopes are back in place afterwards, also
     * when {@code work} throws.
     */
    public static <T> T outside(Supplier<T> work) {
        Deque<TensorScope> saved = STACK.get();
        STACK.set(new ArrayDeque<>());
        try {
            return work.get();
        } finally {
            STACK.set(saved);
        }
    }

    /** Removes {@code tensor} from this scope (to the enclosing one, if any) and returns it. */
    public <T extends Tensor> T keep(T tensor) {
        checkOwner();
        if (tracked.remove(tensor) != null) {
            Deque<TensorScope> stack = STACK.get();
            boolean below = false;
            for (TensorScope s : stack) {
                if (below) {
                    s.tracked.put(tensor, s.sequence++);
                    break;
                }
                below = s == this;
            }
        }
        return tensor;
    }

    /** Closes every tracked tensor that was not kept, newest first. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        checkOwner();
        closed = true;
        STACK.get().remove(this);
        List<Tensor> all = new ArrayList<>(tracked.keySet());
        all.sort(Comparator.comparingLong(tracked::get));
        tracked.clear();
        RuntimeException first = null;
        for (int i = all.size() - 1; i >= 0; i--) {
            try {
                all.get(i).close();
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    private void checkOwner() {
        if (Thread.currentThread() != owner) {
            throw new TensorException("TensorScope used from thread " + Thread.currentThread().getName()
                    + " but opened on " + owner.getName());
        }
    }
}
