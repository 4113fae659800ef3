package io.vqdistill.formats;

import io.vqdistill.api.Backend;
import io.vqdistill.api.DType;
import io.vqdistill.api.Tensor;
import java.nio.file.Path;
import java.util.List;

/**
 * Named tensors read from disk: one safetensors file ({@link SafeTensors}) or several shards under an
 * index ({@link ShardedSafeTensors}). Every defect is a {@link io.vqdistill.api.FormatException}
 * naming the file that holds it.
 */
public interface TensorStore {
    /** The file read: the safetensors file, or the index of the shards. */
    Path file();

    /** Tensor names, in stored order. */
    List<String> names();

    /** Checks that the tensor {@code name} is stored; a missing one is an error naming the file. Returns this store. */
    TensorStore require(String name);

    /**
     * Checks that the tensor {@code name} is stored with dtype {@code dtype} and shape {@code shape},
     * whatever its size; returns this store.
     *
     * @throws io.vqdistill.api.FormatException naming the file, the tensor, its dtype and shape
     */
    TensorStore require(String name, DType dtype, long... shape);

    /**
     * The tensor {@code name} as one entry of host bytes; a missing one is an error naming the file.
     * An entry holds at most 2 GiB; read a larger tensor with {@link #toTensor}.
     */
    SafeTensors.Entry get(String name);

    /** The tensor {@code name}, which must have dtype {@code dtype} and shape {@code shape}, as {@link #get(String)}. */
    SafeTensors.Entry get(String name, DType dtype, long... shape);

    /**
     * The tensor {@code name}, which must have dtype {@code dtype} and shape {@code shape}, copied into a
     * tensor of {@code backend}, whatever its size.
     */
    Tensor toTensor(String name, DType dtype, long[] shape, Backend backend);

    /**
     * Checks that the floating-point tensor {@code name} holds only finite values (and also -inf when
     * {@code logProbabilities}); returns this store.
     *
     * @throws io.vqdistill.api.FormatException naming the file, the tensor, the first bad element and its value
     */
    TensorStore requireFinite(String name, boolean logProbabilities);
}
