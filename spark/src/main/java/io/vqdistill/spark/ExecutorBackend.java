package io.vqdistill.spark;

import io.vqdistill.api.BackendSelector;
import io.vqdistill.distill.inject.BackendChoice;
import io.vqdistill.distill.pipeline.Session;
import io.vqdistill.distill.pipeline.Sessions;
import io.vqdistill.models.ModelLoader;
import io.vqdistill.api.spi.BackendOptions;
import java.io.Serializable;
import java.util.Set;

/**
 * The backend every executor task opens through the SPI ({@link BackendSelector}): a provider name
 * (empty: the executor's {@code -Dvqdistill.backend} property, else the highest-priority available
 * engine), a device and intra-op threads, as the command line's backend options give them.
 *
 * @param name    djl, nd4j, tensorflow, or empty
 * @param device  auto, cpu, gpu or gpu:N
 * @param threads intra-op threads; 0 lets the engine choose
 */
public record ExecutorBackend(String name, String device, int threads) implements Serializable {

    /** The backend {@code choice} names, with its device and threads. */
    public static ExecutorBackend of(BackendChoice choice) {
        return new ExecutorBackend(choice.name(), choice.options().device(), choice.options().threads());
    }

    /** The automatic choice: default device and threads. */
    public static ExecutorBackend automatic() {
        return of(BackendChoice.automatic());
    }

    /**
     * Opens a session on a new backend of this kind in the calling JVM.
     *
     * @param loadsModels whether the work loads networks (the backend must declare {@link ModelLoader})
     */
    Session open(boolean loadsModels) {
        return new Sessions(BackendSelector::discover).open(new BackendChoice(name, new BackendOptions(device, threads),
                loadsModels ? Set.of(ModelLoader.class) : Set.of()));
    }
}
