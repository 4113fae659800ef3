package io.vqdistill.cli;

import com.google.inject.Guice;
import com.google.inject.Injector;
import com.google.inject.ProvisionException;
import io.vqdistill.api.VqdistillException;
import io.vqdistill.cli.commands.BackendsCommand;
import io.vqdistill.cli.commands.BenchCommand;
import io.vqdistill.cli.commands.DataCommand;
import io.vqdistill.cli.commands.DistillCommand;
import io.vqdistill.cli.commands.EvaluateCommand;
import io.vqdistill.cli.commands.ExactCommand;
import io.vqdistill.cli.commands.InpaintCommand;
import io.vqdistill.cli.commands.QuickstartCommand;
import io.vqdistill.cli.commands.ReconstructCommand;
import io.vqdistill.cli.commands.SampleCommand;
import io.vqdistill.cli.commands.ServeCommand;
import io.vqdistill.cli.commands.SweepCommand;
import io.vqdistill.cli.commands.TrainCommand;
import io.vqdistill.distill.inject.PipelineModule;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code vqdistill} command. {@link #main} builds the process's one Guice injector and the command
 * line on it: picocli creates every command and mixin through {@link InjectorFactory}, so each gets the
 * pipeline classes it declares with {@code @Inject}.
 */
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
            ServeCommand.class,
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

    /**
     * A new injector with the pipeline's bindings: backend selection (nothing is selected until a
     * command opens a session) and the latent searches with their plug-ins. A process builds one.
     */
    public static Injector createInjector() {
        return Guice.createInjector(new PipelineModule());
    }

    /**
     * The command line whose commands come from {@code injector}, with vqdistill's error handling: a
     * failure of the exception family prints one clear message and exits with status 2.
     */
    public static CommandLine commandLine(Injector injector) {
        CommandLine cl = new CommandLine(Main.class, new InjectorFactory(injector));
        cl.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            // a failure while Guice provides something arrives wrapped; its cause is the message
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
        System.exit(commandLine(createInjector()).execute(args));
    }
}
