package io.vqdistill.cli;

import com.google.inject.ProvisionException;
import io.vqdistill.api.VqdistillException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code vqdistill} command. */
@Command(name = "vqdistill",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "Distils a VQ-VAE into a tractable probabilistic circuit and answers exact queries with it.",
        subcommands = {
            BackendsCommand.class,
            BenchCommand.class,
            DataCommand.class,
            TrainCommand.class,
            ReconstructCommand.class,
            DistillCommand.class,
            EvaluateCommand.class,
            SampleCommand.class,
            InpaintCommand.class,
            SweepCommand.class,
            ExactCommand.class,
            QuickstartCommand.class,
            CommandLine.HelpCommand.class
        })
public final class Main implements Runnable {

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** Builds the command line with vqdistill's error handling: a failure prints one clear message. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            // a failure while Guice provides the backend arrives wrapped; its cause is the message
            Throwable cause = e instanceof ProvisionException && e.getCause() != null ? e.getCause() : e;
            if (cause instanceof VqdistillException || cause instanceof IllegalArgumentException) {
                commandLine.getErr().println("error: " + cause.getMessage());
                return 2;
            }
            throw e;
        });
        return cl;
    }

    /** Runs the command and exits with its status. */
    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }
}
