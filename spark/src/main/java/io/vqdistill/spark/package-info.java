/**
 * vqdistill on Apache Spark: the exact model, circuit evaluation and the prior enumeration split into
 * shards across a cluster's executors ({@link io.vqdistill.spark.SparkRuns}), and the
 * {@code spark-submit} entry point {@link io.vqdistill.spark.SparkMain}. Spark is a provided
 * dependency of this module only.
 */
package io.vqdistill.spark;
