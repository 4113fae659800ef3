package io.vqdistill.distill.pipeline;

import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.circuit.Circuit;
import io.vqdistill.api.model.Decoder;
import io.vqdistill.api.search.LatentSet;
import io.vqdistill.circuits.ShallowMixture;
import io.vqdistill.circuits.io.CircuitFiles;
import io.vqdistill.distill.Distillation;
import io.vqdistill.distill.Distiller;
import io.vqdistill.distill.Weighting;
import io.vqdistill.models.checkpoint.Checkpoint;
import io.vqdistill.models.data.DataSplit;
import io.vqdistill.models.train.DecoderTuner;
import io.vqdistill.models.train.DecoderTuning;
import io.vqdistill.models.train.TrainingListener;
import io.vqdistill.models.train.TrainingReport;
import io.vqdistill.models.train.TrainingSpec;
import io.vqdistill.models.train.VqVaeSpec;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Tunes a VQ-VAE's decoder as the decoder of a distilled mixture ({@link DecoderTuning}) and
 * rebuilds the mixture with it: the grids and weights of the saved circuit stay, each component's
 * leaves become the tuned decoder's leaves of its grid. The tuned VQ-VAE is an ordinary checkpoint
 * folder; the rebuilt circuit keeps the original's provenance, names the tuned checkpoint as its
 * {@code vqvae} (the original's moves to {@code tune.source_vqvae}) and records the tuning.
 */
public final class DecoderTuningPipeline {
    private DecoderTuningPipeline() {
    }

    /**
     * What the pipeline does.
     *
     * @param vqvae      the VQ-VAE checkpoint folder to start from
     * @param circuit    the circuit folder whose grids and weights the decoder is tuned for: a shallow
     *                   mixture with latents, e.g. a distilled one
     * @param candidates components per image in each step's loss
     * @param training   the optimisation settings
     * @param data       the images
     * @param out        the tuned VQ-VAE's checkpoint folder
     * @param circuitOut the rebuilt circuit's folder, or null for none
     */
    public record Request(Path vqvae, Path circuit, int candidates, TrainingSpec training, DataSplit data, Path out,
            Path circuitOut) {
        /** Checks the settings are present. */
        public Request {
            Objects.requireNonNull(vqvae, "vqvae");
            Objects.requireNonNull(circuit, "circuit");
            Objects.requireNonNull(training, "training");
            Objects.requireNonNull(data, "data");
            Objects.requireNonNull(out, "out");
        }
    }

    /**
     * What the pipeline made.
     *
     * @param training   the tuning run's report
     * @param circuitOut the rebuilt circuit's folder, or null
     * @param seconds    wall time of rebuilding the circuit, 0 without one
     */
    public record Result(TrainingReport training, Path circuitOut, double seconds) {
    }

    /**
     * Tunes the decoder on the session's backend, which must declare {@link DecoderTuner}, then
     * rebuilds the circuit when asked.
     *
     * @throws InvalidArgumentException when the circuit is not a shallow mixture with latents, or its
     *                                  grids are not the VQ-VAE's, or the VQ-VAE's leaves are not Gaussian
     */
    public static Result run(Session session, Request request, TrainingListener listener, ProgressListener progress) {
        Checkpoint config = Checkpoint.read(request.vqvae(), Checkpoint.KIND_VQVAE);
        VqVaeSpec model = VqVaeSpec.fromJson(config.architecture(), Checkpoint.configFile(request.vqvae()));
        Circuit saved = session.circuit(request.circuit());
        if (!(saved instanceof ShallowMixture mixture) || mixture.latents().isEmpty()) {
            throw new InvalidArgumentException("--circuit " + request.circuit() + " holds " + saved
                    + "; decoder tuning needs a shallow mixture with the latent grids of its components");
        }
        LatentSet latents = mixture.latents().orElseThrow();
        if (!latents.shape().equals(model.latent())) {
            throw new InvalidArgumentException("the circuit in " + request.circuit() + " holds " + latents.shape()
                    + " grids but the VQ-VAE in " + request.vqvae() + " decodes " + model.latent() + " grids");
        }
        DecoderTuning tuning = new DecoderTuning(model, request.vqvae(), latents.codes(), mixture.logWeights(),
                request.candidates(), request.circuit().toAbsolutePath().normalize() + " ("
                        + CircuitFiles.provenance(request.circuit()).getOrDefault("created", "undated") + ")");
        TrainingReport report = session.require(DecoderTuner.class, "tune a decoder")
                .tuneDecoder(tuning, request.training(), request.data(), request.out(), listener);
        if (request.circuitOut() == null) {
            return new Result(report, null, 0);
        }
        long start = System.nanoTime();
        rebuild(session, request, mixture, latents, progress);
        return new Result(report, request.circuitOut(), (System.nanoTime() - start) / 1e9);
    }

    /** Decodes the circuit's grids with the tuned decoder and writes the mixture with the original weights. */
    private static void rebuild(Session session, Request request, ShallowMixture original, LatentSet latents,
            ProgressListener progress) {
        Decoder decoder = session.decoder(request.out());
        Distiller distiller = new Distiller(session.backend(), decoder, Distiller.DEFAULT_DECODE_BATCH,
                request.out().toAbsolutePath().normalize().toString());
        try (Distillation decoded = ProgressListener.track(progress, CmCompilation.DECODE_TASK,
                latents.size(), "grids", done -> distiller.distil(latents, Weighting.uniform(), done));
                ShallowMixture tuned = ShallowMixture.builder(original.leafFamily())
                        .parameters(decoded.mixture().parameters()).logWeights(original.logWeights())
                        .latents(latents).build()) {
            Map<String, String> provenance = new LinkedHashMap<>(CircuitFiles.provenance(request.circuit()));
            Refinement.RECORDED_ANEW.forEach(provenance::remove);
            String source = provenance.put("vqvae", request.out().toAbsolutePath().normalize().toString());
            if (source != null) {
                provenance.put("tune.source_vqvae", source);
            }
            provenance.put("tune.from_circuit", request.circuit().toAbsolutePath().normalize().toString());
            provenance.put("tune.candidates", Integer.toString(request.candidates()));
            CircuitFiles.write(request.circuitOut(), tuned, provenance, CircuitFiles.numClasses(request.circuit()));
        }
    }
}
