package io.vqdistill.backend.nd4j;

import io.vqdistill.api.Backend;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.models.train.CodebookUpdatesContractTest;

/** The codebook-training contract (EMA, restarts, k-means) on ND4J's tensors. */
class Nd4jCodebookUpdatesContractTest extends CodebookUpdatesContractTest {
    @Override
    protected Backend createBackend() {
        return new Nd4jBackendProvider().create(new BackendOptions("cpu", 0));
    }
}
