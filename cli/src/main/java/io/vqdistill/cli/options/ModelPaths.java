package io.vqdistill.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The two checkpoint folders a command distils or evaluates from. */
final class ModelPaths {

    @Option(names = "--vqvae", paramLabel = "DIR", required = true, description = "the VQ-VAE checkpoint folder")
    Path vqvae;

    @Option(names = "--prior", paramLabel = "DIR", required = true, description = "the prior's checkpoint folder")
    Path prior;
}
