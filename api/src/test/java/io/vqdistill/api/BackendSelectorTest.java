package io.vqdistill.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vqdistill.api.fake.FakeBackend;
import io.vqdistill.api.fake.FakeBackendProvider;
import io.vqdistill.api.spi.Availability;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.api.spi.BackendProvider;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class BackendSelectorTest {
    private String savedProperty;
    private final List<Backend> created = new ArrayList<>();

    @BeforeEach
    void clearProperty() {
        savedProperty = System.getProperty(BackendSelector.PROPERTY);
        System.clearProperty(BackendSelector.PROPERTY);
    }

    @AfterEach
    void restoreProperty() {
        if (savedProperty == null) {
            System.clearProperty(BackendSelector.PROPERTY);
        } else {
            System.setProperty(BackendSelector.PROPERTY, savedProperty);
        }
        created.forEach(b -> {
            try {
                b.close();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    /** A hand-made provider: fixed name, priority and availability; counts and records its create calls. */
    private static class Stub implements BackendProvider {
        final String name;
        final int priority;
        final Availability availability;
        final Supplier<Backend> factory;
        final Backend backend = new FakeBackend();
        int creates;
        BackendOptions lastOptions;

        Stub(String name, int priority, Availability availability, Supplier<Backend> factory) {
            this.name = name;
            this.priority = priority;
            this.availability = availability;
            this.factory = factory;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public int priority() {
            return priority;
        }

        @Override
        public Availability availability() {
            return availability;
        }

        @Override
        public Backend create(BackendOptions options) {
            creates++;
            lastOptions = options;
            return factory == null ? backend : factory.get();
        }
    }

    /** A second provider class, to check that duplicate names report both classes. */
    private static final class OtherStub extends Stub {
        OtherStub(String name) {
            super(name, 0, Availability.yes("found"), null);
        }
    }

    private static Stub available(String name, int priority) {
        return new Stub(name, priority, Availability.yes("jar found"), null);
    }

    private static Stub unavailable(String name, int priority, String reason) {
        return new Stub(name, priority, Availability.no(reason), null);
    }

    private static Stub failing(String name, int priority, RuntimeException failure) {
        return new Stub(name, priority, Availability.yes("jar found"), () -> {
            throw failure;
        });
    }

    private Backend select(BackendSelector selector, String name) {
        Backend b = selector.select(name, BackendOptions.defaults());
        created.add(b);
        return b;
    }

    @Test
    void explicitChoiceWinsOverPriority() {
        Stub high = available("high", 10);
        Stub low = available("low", 1);
        BackendSelector selector = new BackendSelector(List.of(high, low));
        assertThat(select(selector, "low")).isSameAs(low.backend);
        assertThat(select(selector, " LOW ")).isSameAs(low.backend);
        assertThat(high.creates).isZero();
    }

    @Test
    void optionsReachTheProvider() {
        Stub only = available("only", 0);
        BackendOptions options = new BackendOptions("cpu", 3);
        new BackendSelector(List.of(only)).select("only", options);
        assertThat(only.lastOptions).isEqualTo(options);
    }

    @Test
    void unknownNameListsEveryProviderWithItsAvailability() {
        BackendSelector selector = new BackendSelector(List.of(available("alpha", 10),
                unavailable("beta", 5, "native library missing for linux-aarch64")));
        assertThatThrownBy(() -> select(selector, "gamma")).isInstanceOf(BackendException.class)
                .hasMessageContaining("unknown backend 'gamma'")
                .hasMessageContaining("alpha (priority 10): available - jar found")
                .hasMessageContaining("beta (priority 5): unavailable - native library missing for linux-aarch64");
    }

    @Test
    void unknownNameWithNoProvidersSaysSo() {
        assertThatThrownBy(() -> select(new BackendSelector(List.of()), "djl")).isInstanceOf(BackendException.class)
                .hasMessageContaining("unknown backend 'djl'").hasMessageContaining("none on the class path");
    }

    @Test
    void unavailableExplicitChoiceFailsWithTheReason() {
        Stub beta = unavailable("beta", 5, "no CUDA runtime");
        BackendSelector selector = new BackendSelector(List.of(available("alpha", 10), beta));
        assertThatThrownBy(() -> select(selector, "beta")).isInstanceOf(BackendException.class)
                .hasMessageContaining("backend 'beta' is not available: no CUDA runtime")
                .hasMessageContaining("alpha (priority 10): available");
        assertThat(beta.creates).isZero();
    }

    @Test
    void explicitChoiceThatFailsToStartIsABackendExceptionWithTheCause() {
        IllegalStateException cause = new IllegalStateException("libtorch.so: cannot open shared object file");
        BackendSelector selector = new BackendSelector(List.of(failing("torch", 10, cause), available("other", 1)));
        assertThatThrownBy(() -> select(selector, "torch")).isInstanceOf(BackendException.class)
                .hasMessageContaining("backend 'torch' failed to start").hasMessageContaining("libtorch.so")
                .hasCause(cause);
    }

    @Test
    void explicitChoiceThatThrowsBackendExceptionPassesItOn() {
        BackendException own = new BackendException("Failed to load TensorFlow native library");
        BackendSelector selector = new BackendSelector(List.of(failing("tf", 10, own)));
        assertThatThrownBy(() -> select(selector, "tf")).isSameAs(own);
    }

    @Test
    void automaticChoiceTakesTheHighestPriorityThatStarts() {
        Stub top = unavailable("top", 100, "wrong OS");
        Stub broken = failing("broken", 50, new IllegalStateException("boom"));
        Stub good = available("good", 10);
        Stub worse = available("worse", 5);
        BackendSelector selector = new BackendSelector(List.of(worse, good, broken, top));
        assertThat(select(selector, null)).isSameAs(good.backend);
        assertThat(select(selector, "  ")).isSameAs(good.backend);
        assertThat(top.creates).isZero();
        assertThat(broken.creates).isEqualTo(2);
        assertThat(worse.creates).isZero();
    }

    @Test
    void automaticChoiceSkipsLinkageErrors() {
        Stub broken = new Stub("natives", 50, Availability.yes("jar found"), () -> {
            throw new UnsatisfiedLinkError("no jnitensorflow in java.library.path");
        });
        Stub good = available("good", 1);
        assertThat(select(new BackendSelector(List.of(broken, good)), null)).isSameAs(good.backend);
    }

    @Test
    void automaticChoiceWithNothingUsableListsEveryReason() {
        BackendSelector selector = new BackendSelector(List.of(unavailable("a", 2, "no jar"),
                failing("b", 1, new IllegalStateException("segfault guard"))));
        assertThatThrownBy(() -> select(selector, null)).isInstanceOf(BackendException.class)
                .hasMessageContaining("no backend could be created").hasMessageContaining("a: no jar")
                .hasMessageContaining("b: failed to start").hasMessageContaining("segfault guard");
    }

    @Test
    void automaticChoiceWithNoProvidersExplainsWhatToAdd() {
        assertThatThrownBy(() -> select(new BackendSelector(List.of()), null)).isInstanceOf(BackendException.class)
                .hasMessageContaining("no backend provider on the class path");
    }

    /** A capability only the selection tests declare. */
    private record Training() implements Capability {
        @Override
        public String capabilityName() {
            return "train";
        }
    }

    @Test
    void requiredCapabilitiesSkipEnginesThatLackThemInAutomaticChoice() {
        Backend trainer = new FakeBackend(List.of(new Training()));
        Stub plain = available("plain", 50);
        Stub capable = new Stub("capable", 10, Availability.yes("jar found"), () -> trainer);
        BackendSelector selector = new BackendSelector(List.of(plain, capable));
        Backend chosen = selector.select(null, BackendOptions.defaults(), Set.of(Training.class));
        created.add(chosen);
        assertThat(chosen).isSameAs(trainer);
        assertThat(plain.creates).isEqualTo(1);
        assertThat(((FakeBackend) plain.backend).isClosed()).isTrue();
    }

    @Test
    void aNamedEngineLackingARequiredCapabilityFailsNamingIt() {
        BackendSelector selector = new BackendSelector(List.of(available("plain", 50)));
        assertThatThrownBy(() -> selector.select("plain", BackendOptions.defaults(), Set.of(Training.class)))
                .isInstanceOf(BackendException.class).hasMessageContaining("'fake' has no Training capability")
                .hasMessageContaining("tensors only");
    }

    @Test
    void noEngineWithTheCapabilityListsWhyEachWasSkipped() {
        BackendSelector selector = new BackendSelector(List.of(available("plain", 50)));
        assertThatThrownBy(() -> selector.select(null, BackendOptions.defaults(), Set.of(Training.class)))
                .isInstanceOf(BackendException.class).hasMessageContaining("plain: no Training capability");
    }

    @Test
    void aProbeThatThrowsCountsAsUnavailable() {
        Stub broken = new Stub("broken", 50, null, null) {
            @Override
            public Availability availability() {
                throw new IllegalStateException("probe exploded");
            }
        };
        BackendSelector selector = new BackendSelector(List.of(broken, available("ok", 1)));
        assertThat(select(selector, null).name()).isEqualTo("fake");
        assertThatThrownBy(() -> select(selector, "broken")).isInstanceOf(BackendException.class)
                .hasMessageContaining("not available").hasMessageContaining("probe exploded");
    }

    @Test
    void duplicateNamesFailNamingBothClasses() {
        assertThatThrownBy(() -> new BackendSelector(List.of(available("dup", 1), new OtherStub("DUP"))))
                .isInstanceOf(BackendException.class).hasMessageContaining("'DUP'")
                .hasMessageContaining(Stub.class.getName()).hasMessageContaining(OtherStub.class.getName());
    }

    @Test
    void providersAreListedByPriorityThenName() {
        BackendSelector selector = new BackendSelector(List.of(available("b", 1), available("c", 7),
                available("a", 1), unavailable("z", 9, "no")));
        assertThat(selector.providers()).extracting(BackendProvider::name).containsExactly("z", "c", "a", "b");
    }

    @Test
    void systemPropertyNamesTheBackend() {
        Stub high = available("high", 10);
        Stub low = available("low", 1);
        BackendSelector selector = new BackendSelector(List.of(high, low));
        System.setProperty(BackendSelector.PROPERTY, "low");
        assertThat(BackendSelector.requestedName(null)).contains("low");
        assertThat(select(selector, null)).isSameAs(low.backend);
        assertThat(select(selector, "high")).as("an explicit argument beats the property").isSameAs(high.backend);
        System.setProperty(BackendSelector.PROPERTY, "missing");
        assertThatThrownBy(() -> select(selector, null)).isInstanceOf(BackendException.class)
                .hasMessageContaining("unknown backend 'missing'");
        System.setProperty(BackendSelector.PROPERTY, " ");
        assertThat(BackendSelector.requestedName("")).isEmpty();
        assertThat(select(selector, null)).isSameAs(high.backend);
        System.clearProperty(BackendSelector.PROPERTY);
        assertThat(BackendSelector.requestedName(null)).isEmpty();
    }

    @Test
    void discoverFindsTheFakeProviderOfTheTestClassPath() {
        BackendSelector selector = BackendSelector.discover();
        assertThat(selector.providers()).extracting(BackendProvider::name).contains(FakeBackendProvider.NAME);
        Backend fake = select(selector, "fake");
        assertThat(fake).isInstanceOf(FakeBackend.class);
        assertThat(fake.name()).isEqualTo("fake");
    }

    @Test
    void fakeProviderNeverWinsOverARealEngine() {
        Stub engine = available("engine", 0);
        BackendSelector selector = new BackendSelector(List.of(new FakeBackendProvider(), engine));
        assertThat(select(selector, null)).isSameAs(engine.backend);
        assertThat(select(new BackendSelector(List.of(new FakeBackendProvider())), null))
                .isInstanceOf(FakeBackend.class);
    }
}
