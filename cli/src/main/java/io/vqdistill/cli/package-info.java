/**
 * The {@code vqdistill} command-line application: {@link io.vqdistill.cli.Main} builds one Guice
 * injector per process and the picocli command line on it. The commands are in
 * {@code io.vqdistill.cli.commands}, the options they share in {@code io.vqdistill.cli.options}, the
 * data-set and input handling in {@code io.vqdistill.cli.data} and the pictures and printed reports in
 * {@code io.vqdistill.cli.render}; the work itself is done by the pipeline classes of
 * {@code io.vqdistill.distill.pipeline}.
 */
package io.vqdistill.cli;
