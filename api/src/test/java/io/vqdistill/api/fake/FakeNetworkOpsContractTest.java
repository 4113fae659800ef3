package io.vqdistill.api.fake;

import io.vqdistill.api.Backend;
import io.vqdistill.api.nn.NetworkOpsContractTest;

/** Runs the network contract against the fake backend with {@link FakeNetworkOps}. */
class FakeNetworkOpsContractTest extends NetworkOpsContractTest {
    @Override
    protected Backend createBackend() {
        return FakeBackend.withNetworkOps();
    }
}
