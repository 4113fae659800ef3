package io.vqdistill.backend.djl;

import io.vqdistill.api.Backend;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.models.train.CodebookUpdatesContractTest;

/** The codebook-training contract (EMA, restarts, k-means) on DJL's tensors on the CPU. */
class DjlCodebookUpdatesContractTest extends CodebookUpdatesContractTest {
    @Override
    protected Backend createBackend() {
        return new DjlBackendProvider().create(new BackendOptions("cpu", 0));
    }
}
