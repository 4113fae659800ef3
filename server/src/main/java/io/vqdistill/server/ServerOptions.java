package io.vqdistill.server;

import io.vqdistill.api.InvalidArgumentException;
import java.util.Objects;

/**
 * Where and how {@link CircuitServer} listens.
 *
 * @param host         the address to bind, {@value #DEFAULT_HOST} by default (this machine only)
 * @param port         the TCP port, 0 for any free one
 * @param maxBodyBytes the largest request body accepted; a larger one is refused with status 413
 */
public record ServerOptions(String host, int port, int maxBodyBytes) {
    /** The default address: the loopback interface, so nothing outside this machine can connect. */
    public static final String DEFAULT_HOST = "127.0.0.1";
    /** The default port. */
    public static final int DEFAULT_PORT = 8080;
    /** The default body limit, 64 KiB: a 28x28 image and its mask take about 8 KiB of JSON. */
    public static final int DEFAULT_MAX_BODY_BYTES = 64 * 1024;

    /** Checks the values, naming the option at fault. */
    public ServerOptions {
        Objects.requireNonNull(host, "host");
        if (host.isBlank()) {
            throw InvalidArgumentException.of("--host", "''", "an address or host name");
        }
        if (port < 0 || port > 65535) {
            throw InvalidArgumentException.of("--port", port, "in 0..65535 (0: any free port)");
        }
        if (maxBodyBytes < 1024) {
            throw InvalidArgumentException.of("maxBodyBytes", maxBodyBytes, ">= 1024");
        }
    }

    /** The defaults: {@value #DEFAULT_HOST}, port {@value #DEFAULT_PORT}, 64 KiB bodies. */
    public static ServerOptions defaults() {
        return new ServerOptions(DEFAULT_HOST, DEFAULT_PORT, DEFAULT_MAX_BODY_BYTES);
    }

    /** These options on {@code host} and {@code port}. */
    public ServerOptions at(String host, int port) {
        return new ServerOptions(host, port, maxBodyBytes);
    }
}
