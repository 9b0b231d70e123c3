package io.fraudguard.metrics;

import java.util.Properties;
import org.apache.flink.metrics.reporter.MetricReporter;
import org.apache.flink.metrics.reporter.MetricReporterFactory;
import org.apache.flink.util.PortRange;

/**
 * Makes an {@link AddressBoundPrometheusReporter}. Flink configuration, for a reporter named
 * {@code prom}:
 *
 * <pre>
 * metrics.reporter.prom.factory.class: io.fraudguard.metrics.AddressBoundPrometheusReporterFactory
 * metrics.reporter.prom.host: 127.0.0.1   (default)
 * metrics.reporter.prom.port: 9249        (default; a range such as 9250-9260 takes the first free)
 * </pre>
 *
 * Every other option is Flink's reporter's own, such as {@code filterLabelValueCharacters}.
 */
public final class AddressBoundPrometheusReporterFactory implements MetricReporterFactory {
    static final String HOST = "host";
    static final String PORT = "port";
    static final String DEFAULT_HOST = "127.0.0.1";
    static final String DEFAULT_PORT = "9249";

    @Override
    public MetricReporter createMetricReporter(Properties properties) {
        String host = properties.getProperty(HOST, DEFAULT_HOST);
        String ports = properties.getProperty(PORT, DEFAULT_PORT);
        return new AddressBoundPrometheusReporter(host, new PortRange(ports));
    }
}
