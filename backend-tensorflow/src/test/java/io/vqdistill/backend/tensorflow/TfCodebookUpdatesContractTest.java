package io.vqdistill.backend.tensorflow;

import io.vqdistill.api.Backend;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.models.train.CodebookUpdatesContractTest;

/** The codebook-training contract (EMA, restarts, k-means) on TensorFlow's tensors on the CPU. */
class TfCodebookUpdatesContractTest extends CodebookUpdatesContractTest {
    @Override
    protected Backend createBackend() {
        return new TfBackendProvider().create(new BackendOptions("cpu", 2));
    }
}
