package io.vqdistill.api.circuit;

import io.vqdistill.api.InvalidArgumentException;
import java.util.Map;

/**
 * The service interface a leaf-family jar registers in
 * {@code META-INF/services/io.vqdistill.api.circuit.LeafFamilyProvider}. Providers are cheap to
 * construct; {@link #create(Map)} configures a family.
 */
public interface LeafFamilyProvider {

    /** The unique family name, e.g. {@code gaussian}; equal to {@link LeafFamily#name()}. */
    String name();

    /**
     * A family configured by {@code options} (string keys and values, as stored in
     * {@code circuit.json}); a missing option takes its documented default.
     *
     * @throws InvalidArgumentException for an unknown key or an invalid value, naming both
     */
    LeafFamily create(Map<String, String> options);
}
