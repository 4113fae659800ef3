package io.vqdistill.models.fake;

import io.vqdistill.api.Backend;
import io.vqdistill.models.train.CodebookUpdatesContractTest;

/** Runs the codebook-training contract against the fake backend. */
class FakeCodebookUpdatesContractTest extends CodebookUpdatesContractTest {
    @Override
    protected Backend createBackend() {
        return FakeNetworkOps.backend();
    }
}
