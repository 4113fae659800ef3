package io.vqdistill.cli;

import com.google.inject.Guice;
import com.google.inject.Injector;
import io.vqdistill.cli.commands.BackendsCommand;
import io.vqdistill.cli.commands.BenchCommand;
import io.vqdistill.cli.commands.ClassifyCommand;
import io.vqdistill.cli.commands.CompileCommand;
import io.vqdistill.cli.commands.DataCommand;
import io.vqdistill.cli.commands.DistillCommand;
import io.vqdistill.cli.commands.EnumerateCommand;
import io.vqdistill.cli.commands.EvaluateCommand;
import io.vqdistill.cli.commands.ExactCommand;
import io.vqdistill.cli.commands.InpaintCommand;
import io.vqdistill.cli.commands.InpaintScoreCommand;
import io.vqdistill.cli.commands.QuickstartCommand;
import io.vqdistill.cli.commands.ReproduceCommand;
import io.vqdistill.cli.commands.ReconstructCommand;
import io.vqdistill.cli.commands.RefineCommand;
import io.vqdistill.cli.commands.TuneCommand;
import io.vqdistill.cli.commands.SampleCommand;
import io.vqdistill.cli.commands.ServeCommand;
import io.vqdistill.cli.commands.SweepCommand;
import io.vqdistill.cli.commands.TrainCommand;
import io.vqdistill.distill.inject.PipelineModule;
import java.io.PrintWriter;
import java.util.TreeSet;
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
            CompileCommand.class,
            ReconstructCommand.class,
            DistillCommand.class,
            EvaluateCommand.class,
            RefineCommand.class,
            TuneCommand.class,
            SampleCommand.class,
            InpaintCommand.class,
            InpaintScoreCommand.class,
            ClassifyCommand.class,
            ServeCommand.class,
            SweepCommand.class,
            ExactCommand.class,
            EnumerateCommand.class,
            QuickstartCommand.class,
            ReproduceCommand.class,
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
     * The command line whose commands come from {@code injector}, with vqdistill's error handling
     * ({@link Failures}): a failure of the exception family prints one clear message and exits with
     * status 2, running out of memory exits with status 3, and no failure prints a stack trace. An
     * unknown command is an error (status 2) even with {@code --help}.
     */
    public static CommandLine commandLine(Injector injector) {
        return commandLine(Main.class, injector);
    }

    /**
     * The command line of another top command (such as the Spark module's entry point) whose commands
     * come from {@code injector}, with the same error handling as {@link #commandLine(Injector)}.
     */
    public static CommandLine commandLine(Class<?> command, Injector injector) {
        CommandLine cl = new CommandLine(command, new InjectorFactory(injector));
        cl.setExecutionStrategy(Main::execute);
        cl.setParameterExceptionHandler(Main::invalidInput);
        cl.setExecutionExceptionHandler((e, commandLine, parseResult) ->
                Failures.report(e, commandLine, commandLine.getErr()));
        return cl;
    }

    /**
     * Runs the last subcommand of {@code parsed}; arguments picocli left unmatched (which it accepts
     * silently when {@code --help} is given) are an error first, and running out of memory is
     * reported as {@link Failures} says.
     */
    private static int execute(CommandLine.ParseResult parsed) {
        for (CommandLine.ParseResult p = parsed; p != null; p = p.subcommand()) {
            if (!p.unmatched().isEmpty()) {
                throw new CommandLine.UnmatchedArgumentException(p.commandSpec().commandLine(), p.unmatched());
            }
        }
        try {
            return new CommandLine.RunLast().execute(parsed);
        } catch (OutOfMemoryError e) {
            CommandLine last = parsed.asCommandLineList().get(parsed.asCommandLineList().size() - 1);
            return Failures.report(e, last, last.getErr());
        }
    }

    /**
     * A command line picocli cannot parse: an unknown command is named with the list of commands; any
     * other problem is printed with picocli's suggestions and a pointer to {@code --help}.
     */
    private static int invalidInput(CommandLine.ParameterException e, String[] args) {
        CommandLine c = e.getCommandLine();
        PrintWriter err = c.getErr();
        String name = c.getCommandSpec().qualifiedName();
        if (e instanceof CommandLine.UnmatchedArgumentException u && !c.getSubcommands().isEmpty()
                && !u.getUnmatched().isEmpty() && !u.getUnmatched().get(0).startsWith("-")) {
            err.println("error: unknown command '" + u.getUnmatched().get(0) + "'; the commands of '" + name
                    + "' are: " + String.join(", ", new TreeSet<>(c.getSubcommands().keySet())));
        } else {
            err.println("error: " + e.getMessage());
            CommandLine.UnmatchedArgumentException.printSuggestions(e, err);
        }
        err.println("Try '" + name + " --help' for the usage.");
        err.flush();
        return Failures.INVALID;
    }

    /** Runs the command and exits with its status. */
    public static void main(String[] args) {
        int status;
        try {
            status = commandLine(createInjector()).execute(args);
        } catch (OutOfMemoryError e) {
            status = Failures.report(e, null, new PrintWriter(System.err, true));
        } catch (RuntimeException e) {
            status = Failures.report(e, null, new PrintWriter(System.err, true));
        }
        System.exit(status);
    }
}
