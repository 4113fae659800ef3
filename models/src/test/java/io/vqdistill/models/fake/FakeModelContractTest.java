package io.vqdistill.models.fake;

import io.vqdistill.api.Backend;
import io.vqdistill.models.nn.ModelContractTest;

/** Runs the model contract against the fake backend's portable networks. */
class FakeModelContractTest extends ModelContractTest {
    @Override
    protected Backend createBackend() {
        return FakeNetworkOps.backend();
    }
}
