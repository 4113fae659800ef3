package io.vqdistill.models.fake;

import io.vqdistill.api.Backend;
import io.vqdistill.models.nn.NetworkOpsContractTest;

/** Runs the network contract against the fake backend with {@link FakeNetworkOps}. */
class FakeNetworkOpsContractTest extends NetworkOpsContractTest {
    @Override
    protected Backend createBackend() {
        return FakeNetworkOps.backend();
    }
}
