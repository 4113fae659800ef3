package io.vqdistill.cli.options;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The two checkpoint folders a command distils or evaluates from. */
public final class ModelPaths {

    @Option(names = "--vqvae", paramLabel = "DIR", required = true, description = "the VQ-VAE checkpoint folder")
    Path vqvae;

    @Option(names = "--prior", paramLabel = "DIR", required = true, description = "the prior's checkpoint folder")
    Path prior;

    /** The VQ-VAE checkpoint folder. */
    public Path vqvae() {
        return vqvae;
    }

    /** The prior's checkpoint folder. */
    public Path prior() {
        return prior;
    }
}
