package io.vqdistill.spark;

import io.vqdistill.api.InvalidArgumentException;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import picocli.CommandLine.Option;

/** The options every Spark command shares: the Spark master (when not run by {@code spark-submit}) and the shards. */
public final class SparkOptions {

    @Option(names = "--master", paramLabel = "URL",
            description = "the Spark master, e.g. local[2] (default: the spark.master that spark-submit sets, else "
                    + "local[*])")
    String master;

    @Option(names = "--partitions", paramLabel = "N", defaultValue = "0",
            description = "the most shards the work is split into; 0 takes Spark's default parallelism (default: "
                    + "${DEFAULT-VALUE})")
    int partitions;

    /**
     * A Spark context named {@code app}: on {@code --master} when given, else on the master that
     * spark-submit set, else on {@code local[*]}.
     */
    JavaSparkContext start(String app) {
        SparkConf conf = new SparkConf().setAppName(app);
        if (master != null) {
            conf.setMaster(master);
        } else if (!conf.contains("spark.master")) {
            conf.setMaster("local[*]");
        }
        return new JavaSparkContext(conf);
    }

    /**
     * The most shards: {@code --partitions}, or the context's default parallelism.
     *
     * @throws InvalidArgumentException for a negative {@code --partitions}
     */
    int partitions(JavaSparkContext spark) {
        if (partitions < 0) {
            throw new InvalidArgumentException("--partitions must be >= 0 (0 takes Spark's default parallelism), found "
                    + partitions);
        }
        return partitions > 0 ? partitions : spark.defaultParallelism();
    }
}
