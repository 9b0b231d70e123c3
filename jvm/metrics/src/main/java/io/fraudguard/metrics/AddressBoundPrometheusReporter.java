package io.fraudguard.metrics;

import io.prometheus.client.CollectorRegistry;
import io.prometheus.client.exporter.HTTPServer;
import java.io.IOException;
import java.lang.reflect.Field;
import java.net.InetSocketAddress;
import java.util.Iterator;
import org.apache.flink.metrics.prometheus.AbstractPrometheusReporter;
import org.apache.flink.util.PortRange;

/**
 * Flink's Prometheus reporter (same metric names, labels and types) serving its metrics on one
 * address instead of every interface.
 *
 * <p>Flink's own {@code PrometheusReporter} binds {@code new InetSocketAddress(port)}, the
 * wildcard address, and has no option for another. The local job listens on loopback like the
 * rest of the local stack, so this reporter starts the same HTTP server on the configured host.
 */
public final class AddressBoundPrometheusReporter extends AbstractPrometheusReporter {
    private final HTTPServer server;

    /** Listens on {@code host} at the first free port of {@code ports}. */
    public AddressBoundPrometheusReporter(String host, PortRange ports) {
        CollectorRegistry registry = registryOf(this);
        IOException failure = null;
        HTTPServer started = null;
        for (Iterator<Integer> it = ports.getPortsIterator(); started == null && it.hasNext(); ) {
            int port = it.next();
            try {
                // A daemon thread: the reporter is closed with the metric registry, and a server
                // left behind must not keep the JVM alive.
                started = new HTTPServer(new InetSocketAddress(host, port), registry, true);
            } catch (IOException e) {
                failure = e;
            }
        }
        if (started == null) {
            throw new IllegalStateException(
                    "could not start the Prometheus reporter on " + host + ":" + ports, failure);
        }
        server = started;
        log.info("Started the Prometheus reporter on {}:{}.", host, server.getPort());
    }

    /** The port the server listens on (the one chosen when the range had several, or 0). */
    public int port() {
        return server.getPort();
    }

    @Override
    public void close() {
        server.stop();
        super.close();
    }

    private static CollectorRegistry registryOf(AbstractPrometheusReporter reporter) {
        // The registry the metrics' collectors join is package-private in Flink's base class;
        // it is the one thing a reporter of its own needs from it. The JUnit test fails first
        // if a Flink upgrade renames it.
        try {
            Field field = AbstractPrometheusReporter.class.getDeclaredField("registry");
            field.setAccessible(true);
            return (CollectorRegistry) field.get(reporter);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(
                    "Flink's AbstractPrometheusReporter has no registry field to serve", e);
        }
    }
}
