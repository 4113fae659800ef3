package io.vqdistill.spark;

import io.vqdistill.api.InvalidArgumentException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/** Splits a range of work items (grids or images) into contiguous shards for the executors. */
final class Shards {
    private Shards() {
    }

    /**
     * A contiguous shard [from, to) of the work.
     *
     * @param from the first item
     * @param to   one past the last item
     */
    record Shard(long from, long to) implements Serializable {
        /** The number of items. */
        long size() {
            return to - from;
        }
    }

    /**
     * At most {@code partitions} shards covering [0, total) in order, each as even as the unit allows:
     * every bound but the last is a multiple of {@code unit} (a chunk of grids, a batch of images), so
     * that each shard does exactly the work units of the whole run.
     *
     * @throws InvalidArgumentException when total is negative or unit or partitions below 1
     */
    static List<Shard> split(long total, long unit, int partitions) {
        if (total < 0 || unit < 1 || partitions < 1) {
            throw new InvalidArgumentException("cannot split " + total + " items in units of " + unit + " into "
                    + partitions + " partitions");
        }
        long units = (total + unit - 1) / unit;
        long perShard = Math.max(1, (units + partitions - 1) / partitions);
        List<Shard> out = new ArrayList<>();
        for (long u = 0; u < units; u += perShard) {
            out.add(new Shard(u * unit, Math.min(total, Math.multiplyExact(u + perShard, unit))));
        }
        return out;
    }
}
