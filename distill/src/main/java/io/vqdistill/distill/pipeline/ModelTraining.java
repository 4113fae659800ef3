package io.vqdistill.distill.pipeline;

import io.vqdistill.models.data.DataSplit;
import io.vqdistill.models.train.ClassifierSpec;
import io.vqdistill.models.train.ClassifierTrainer;
import io.vqdistill.models.train.CmSpec;
import io.vqdistill.models.train.CmTrainer;
import io.vqdistill.models.train.PriorSpec;
import io.vqdistill.models.train.PriorTrainer;
import io.vqdistill.models.train.TrainingListener;
import io.vqdistill.models.train.TrainingReport;
import io.vqdistill.models.train.TrainingSpec;
import io.vqdistill.models.train.VqVaeSpec;
import io.vqdistill.models.train.VqVaeTrainer;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Trains the networks the pipeline distils from, with the session backend's training capabilities.
 * A finished run in the checkpoint folder is reused and a killed one resumed, as the trainers do.
 */
public final class ModelTraining {
    private ModelTraining() {
    }

    /**
     * Trains a VQ-VAE into the checkpoint folder {@code out}.
     *
     * @throws io.vqdistill.api.BackendException when the backend cannot train a VQ-VAE
     */
    public static TrainingReport vqVae(Session session, VqVaeSpec model, TrainingSpec training, DataSplit data,
                                       Path out, TrainingListener listener) {
        Objects.requireNonNull(session, "session");
        return session.require(VqVaeTrainer.class, "train a VQ-VAE").trainVqVae(model, training, data, out,
                listener);
    }

    /**
     * Trains a prior on the code grids the VQ-VAE checkpoint in {@code vqvae} assigns to {@code data}
     * into the checkpoint folder {@code out}.
     *
     * @throws io.vqdistill.api.BackendException when the backend cannot train a prior
     */
    public static TrainingReport prior(Session session, PriorSpec model, TrainingSpec training, Path vqvae,
                                       DataSplit data, Path out, TrainingListener listener) {
        Objects.requireNonNull(session, "session");
        return session.require(PriorTrainer.class, "train a prior").trainPrior(model, training, vqvae, data, out,
                listener);
    }

    /**
     * Trains an image classifier on {@code data} into the checkpoint folder {@code out}.
     *
     * @throws io.vqdistill.api.BackendException when the backend cannot train a classifier
     */
    public static TrainingReport classifier(Session session, ClassifierSpec model, TrainingSpec training,
                                            DataSplit data, Path out, TrainingListener listener) {
        Objects.requireNonNull(session, "session");
        return session.require(ClassifierTrainer.class, "train a classifier").trainClassifier(model, training, data,
                out, listener);
    }

    /**
     * Trains a continuous mixture into the checkpoint folder {@code out}.
     *
     * @throws io.vqdistill.api.BackendException when the backend cannot train a continuous mixture
     */
    public static TrainingReport cm(Session session, CmSpec model, TrainingSpec training, DataSplit data, Path out,
                                    TrainingListener listener) {
        Objects.requireNonNull(session, "session");
        return session.require(CmTrainer.class, "train a continuous mixture").trainCm(model, training, data, out,
                listener);
    }
}
