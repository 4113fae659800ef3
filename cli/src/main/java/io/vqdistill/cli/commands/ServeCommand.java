package io.vqdistill.cli.commands;

import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.circuit.Circuit;
import io.vqdistill.api.circuit.Precision;
import io.vqdistill.circuits.ShallowMixture;
import io.vqdistill.cli.data.CircuitInput;
import io.vqdistill.cli.data.DataOptions;
import io.vqdistill.cli.options.BackendOptionsMixin;
import io.vqdistill.cli.options.PrecisionOption;
import io.vqdistill.distill.eval.Evaluator;
import io.vqdistill.distill.pipeline.Session;
import io.vqdistill.distill.pipeline.Sessions;
import io.vqdistill.models.data.ImageSet;
import io.vqdistill.models.data.Mnist;
import io.vqdistill.server.CircuitServer;
import io.vqdistill.server.CircuitService;
import io.vqdistill.server.ServerOptions;
import jakarta.inject.Inject;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code vqdistill serve}: a circuit's exact queries over HTTP, as JSON and on one HTML page
 * ({@link CircuitServer}). It runs until the process is stopped (Ctrl-C) or its thread is interrupted,
 * then stops the server and closes the circuit and the backend.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Serves a saved circuit over HTTP: a JSON API under /api/ (log-likelihood and bits per "
            + "dimension of a test image or a posted one, marginals of pixel sets, conditional mean, mode and "
            + "samples, unconditional samples, the posterior over the components) and a page at / to pick or "
            + "draw an image, paint the hidden region and watch the completions. Listens on 127.0.0.1 unless "
            + "--host says otherwise; Ctrl-C stops it.")
public final class ServeCommand implements Callable<Integer> {

    @Mixin
    BackendOptionsMixin backendOptions;

    @Mixin
    PrecisionOption precision;

    @Option(names = "--circuit", paramLabel = "DIR", required = true, description = "the circuit folder")
    Path circuit;

    @Option(names = "--data", paramLabel = "DIR", defaultValue = DataOptions.DEFAULT_DATA,
            description = "the MNIST folder whose test images can be asked for by index (default: ${DEFAULT-VALUE};"
                    + " served without test images when the default folder is missing)")
    Path data;

    @Option(names = "--host", paramLabel = "H", defaultValue = ServerOptions.DEFAULT_HOST,
            description = "the address to listen on (default: ${DEFAULT-VALUE}, this machine only)")
    String host;

    @Option(names = "--port", paramLabel = "P", defaultValue = "" + ServerOptions.DEFAULT_PORT,
            description = "the TCP port, 0 for any free one (default: ${DEFAULT-VALUE})")
    int port;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Inject
    Sessions sessions;

    @Override
    public Integer call() {
        Precision chosen = precision.precision();
        CircuitInput.check(circuit);
        ServerOptions options = new ServerOptions(host, port, ServerOptions.DEFAULT_MAX_BODY_BYTES);
        ImageSet test = testImages();
        PrintWriter out = spec.commandLine().getOut();
        CountDownLatch stop = new CountDownLatch(1);
        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            stop.countDown();
            try {
                stopped.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "vqdistill-serve-stop");
        boolean interrupted = false;
        try (Session session = sessions.open(backendOptions.choice())) {
            Circuit c = session.circuit(circuit);
            Evaluator.requireScorable(c, chosen);
            if (c instanceof ShallowMixture m) {
                m.setPrecision(chosen);
            }
            CircuitService service = new CircuitService(c, test, circuit.toString());
            try (CircuitServer server = CircuitServer.start(service, options)) {
                out.println(describe(c, test));
                if (!isLoopback(host)) {
                    out.println("warning: listening on " + host + ", reachable from other machines; the API has no"
                            + " authentication");
                }
                out.println("serving " + server.url() + " (the JSON API under " + server.url() + "api/); Ctrl-C stops");
                out.flush();
                Runtime.getRuntime().addShutdownHook(hook);
                try {
                    stop.await();
                } catch (InterruptedException e) {
                    interrupted = true;   // restored once the server and the session are closed
                }
                out.println("stopping");
                out.flush();
            }
        } finally {
            stopped.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException | IllegalArgumentException e) {
                // shutting down already, or the hook was never added
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }

    /** The test images of {@code --data}, or null when the default folder is missing. */
    private ImageSet testImages() {
        boolean given = spec.commandLine().getParseResult().hasMatchedOption("--data");
        if (!given && !Files.isDirectory(data)) {
            spec.commandLine().getErr().println("note: no MNIST folder at " + data + " ('vqdistill data fetch' fills"
                    + " it); serving without test images: post images instead");
            spec.commandLine().getErr().flush();
            return null;
        }
        if (!Files.isDirectory(data)) {
            throw new InvalidArgumentException("--data " + data + ": no such folder");
        }
        return Mnist.load(data).test();
    }

    private static String describe(Circuit c, ImageSet test) {
        StringBuilder s = new StringBuilder("circuit: ");
        if (c instanceof ShallowMixture m) {
            s.append(String.format(Locale.ROOT, "a mixture of %,d components (precision %s)", m.components(),
                    m.precision().name().toLowerCase(Locale.ROOT)));
        } else {
            s.append("a ").append(c.getClass().getSimpleName());
        }
        s.append(String.format(Locale.ROOT, " over %,d pixels, %s leaves, %,d parameters, on %s", c.numVariables(),
                c.leafFamily().name(), c.parameterCount(), c.backend().name()));
        s.append(test == null ? "; no test images"
                : String.format(Locale.ROOT, "; %,d test images from %s", test.size(), test.description()));
        return s.toString();
    }

    private static boolean isLoopback(String host) {
        try {
            for (InetAddress a : InetAddress.getAllByName(host)) {
                if (!a.isLoopbackAddress()) {
                    return false;
                }
            }
            return true;
        } catch (UnknownHostException e) {
            return false;
        }
    }
}
