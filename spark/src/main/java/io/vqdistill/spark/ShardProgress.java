package io.vqdistill.spark;

import io.vqdistill.distill.pipeline.ProgressListener;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;

/**
 * Tells a {@link ProgressListener} on the driver how much of a sharded run is done: when the task of
 * shard i ends successfully, the shard's items (grids or images) count as done.
 */
final class ShardProgress extends SparkListener {
    private final List<Shards.Shard> shards;
    private final ProgressListener progress;
    private final Set<Integer> finished = new HashSet<>();
    private long done;

    ShardProgress(List<Shards.Shard> shards, ProgressListener progress) {
        this.shards = shards;
        this.progress = progress;
    }

    @Override
    public synchronized void onTaskEnd(SparkListenerTaskEnd taskEnd) {
        int index = taskEnd.taskInfo().index();
        if (taskEnd.taskInfo().successful() && index < shards.size() && finished.add(index)) {
            done += shards.get(index).size();
            progress.advanced(done);
        }
    }
}
