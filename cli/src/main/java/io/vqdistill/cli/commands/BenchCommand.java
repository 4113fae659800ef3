package io.vqdistill.cli.commands;

import io.vqdistill.api.Backend;
import io.vqdistill.circuits.bench.MixtureBenchmark;
import io.vqdistill.cli.options.BackendOptionsMixin;
import io.vqdistill.cli.options.Flags;
import io.vqdistill.cli.options.MemoryBudget;
import io.vqdistill.distill.pipeline.Session;
import io.vqdistill.distill.pipeline.Sessions;
import jakarta.inject.Inject;
import java.io.PrintWriter;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code vqdistill bench}: speed figures of the hot paths on the chosen backend. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Times the Gaussian shallow-mixture log-likelihood (N components over S pixels for B images)",
            "next to the same backend's plain [B,S]x[S,N] matrix product, and prints seconds and GFLOP/s.",
            "Prints one CSV row per (N, B) after a header. A request whose estimated memory exceeds the free Java",
            "heap or the machine's memory is refused before it starts."})
public final class BenchCommand implements Callable<Integer> {

    @Mixin
    BackendOptionsMixin backendOptions;

    @Option(names = "--variables", paramLabel = "S", defaultValue = "784", description = "pixels S (default: ${DEFAULT-VALUE})")
    int variables;

    @Option(names = "--components", paramLabel = "N", split = ",", defaultValue = "1024,4096,16384",
            description = "mixture sizes (default: ${DEFAULT-VALUE})")
    List<Integer> components;

    @Option(names = "--batch", paramLabel = "B", split = ",", defaultValue = "1000,10000",
            description = "batch sizes (default: ${DEFAULT-VALUE})")
    List<Integer> batches;

    @Option(names = "--repeats", defaultValue = "3", description = "timed runs of each; the median is reported (default: ${DEFAULT-VALUE})")
    int repeats;

    @Option(names = "--seed", defaultValue = "1", description = "seed of the random parameters and images (default: ${DEFAULT-VALUE})")
    long seed;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Inject
    Sessions sessions;

    @Override
    public Integer call() {
        Flags.atLeastOne("--variables", variables);
        Flags.atLeastOne("--repeats", repeats);
        components.forEach(n -> Flags.atLeastOne("--components", n));
        batches.forEach(b -> Flags.atLeastOne("--batch", b));
        MemoryBudget.bench(Collections.max(components), Collections.max(batches), variables);
        PrintWriter out = spec.commandLine().getOut();
        try (Session session = sessions.open(backendOptions.choice())) {
            Backend backend = session.backend();
            out.printf("# %s, %d threads requested (0 = engine default), device %s%n", backend.version(),
                    backendOptions.threads(), backend.device());
            out.println("backend,S,N,B,loglik_seconds,loglik_gflops,matmul_seconds,matmul_gflops,ratio");
            for (int b : batches) {
                for (int n : components) {
                    MixtureBenchmark.Result r = MixtureBenchmark.run(backend, variables, n, b, repeats, seed);
                    out.printf(Locale.ROOT, "%s,%d,%d,%d,%.3f,%.1f,%.3f,%.1f,%.2f%n", backend.name(), r.variables(),
                            r.components(), r.batch(), r.seconds(), r.gflops(), r.matmulSeconds(), r.matmulGflops(),
                            r.throughputRatio());
                    out.flush();
                }
            }
        }
        return 0;
    }
}
