package io.vqdistill.cli.options;

import io.vqdistill.api.BackendSelector;
import io.vqdistill.api.Capability;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.distill.inject.BackendChoice;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** The options every command that computes shares: which backend, which device, how many threads. */
public final class BackendOptionsMixin {

    @Option(names = "--backend", paramLabel = "NAME",
            description = "djl, nd4j or tensorflow (default: the -D" + BackendSelector.PROPERTY
                    + " property, else the highest-priority available engine)")
    String backend;

    @Option(names = "--device", paramLabel = "DEVICE", defaultValue = "auto",
            description = "auto, cpu, gpu or gpu:N (default: ${DEFAULT-VALUE})")
    String device;

    int threads;

    @Spec(Spec.Target.MIXEE)
    CommandSpec mixee;

    /**
     * Sets {@code --threads}, at most the machine's cores: an engine asked for far more threads than
     * cores may never finish creating its session.
     *
     * @throws ParameterException naming the flag, the value and the cores
     */
    @Option(names = "--threads", paramLabel = "N", defaultValue = "0",
            description = "intra-op CPU threads, 1 to the machine's cores; 0 lets the engine choose (default:"
                    + " ${DEFAULT-VALUE})")
    void threads(int value) {
        int cores = Runtime.getRuntime().availableProcessors();
        if (value < 0 || value > cores) {
            throw new ParameterException(mixee.commandLine(), "--threads must be in [0, " + cores + "] (0 lets the"
                    + " engine choose; this machine has " + cores + " cores), found " + value);
        }
        threads = value;
    }

    /** The intra-op CPU threads asked for; 0 lets the engine choose. */
    public int threads() {
        return threads;
    }

    /**
     * The backend these options select, among the engines that declare every capability in
     * {@code required}.
     */
    @SafeVarargs
    public final BackendChoice choice(Class<? extends Capability>... required) {
        Set<Class<? extends Capability>> needed = new HashSet<>();
        for (Class<? extends Capability> c : required) {
            needed.add(c);
        }
        return new BackendChoice(backend, new BackendOptions(device, threads), needed);
    }

    /** These options as command-line arguments, the backend only when one was given. */
    public List<String> arguments() {
        List<String> all = new ArrayList<>();
        if (backend != null) {
            all.add("--backend");
            all.add(backend);
        }
        all.add("--device");
        all.add(device);
        all.add("--threads");
        all.add(Integer.toString(threads));
        return all;
    }
}
