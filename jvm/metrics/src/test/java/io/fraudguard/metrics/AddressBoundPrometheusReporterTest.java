package io.fraudguard.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.apache.flink.metrics.CharacterFilter;
import org.apache.flink.metrics.LogicalScopeProvider;
import org.apache.flink.metrics.MetricConfig;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.SimpleCounter;
import org.apache.flink.metrics.groups.UnregisteredMetricsGroup;
import org.junit.jupiter.api.Test;

class AddressBoundPrometheusReporterTest {

    /** A metric group as Flink's reporters see one: a logical scope and its variables. */
    static final class OperatorGroup extends UnregisteredMetricsGroup implements LogicalScopeProvider {
        @Override
        public Map<String, String> getAllVariables() {
            return Map.of("<job_name>", "fraudguard-scoring", "<outcome>", "approve");
        }

        @Override
        public String getLogicalScope(CharacterFilter filter) {
            return getLogicalScope(filter, '.');
        }

        @Override
        public String getLogicalScope(CharacterFilter filter, char delimiter) {
            return "taskmanager" + delimiter + "fraudguard" + delimiter + "outcome";
        }

        @Override
        public MetricGroup getWrappedMetricGroup() {
            return this;
        }
    }

    /** As Flink starts a reporter: made by its factory, then opened with the same options. */
    static AddressBoundPrometheusReporter started(MetricConfig config) {
        AddressBoundPrometheusReporter reporter =
                (AddressBoundPrometheusReporter)
                        new AddressBoundPrometheusReporterFactory().createMetricReporter(config);
        reporter.open(config);
        return reporter;
    }

    static AddressBoundPrometheusReporter onAnyLoopbackPort() {
        MetricConfig config = new MetricConfig();
        config.setProperty("host", "127.0.0.1");
        config.setProperty("port", "0");
        // As the job configures it: version labels such as xgb-1.2 kept as they are.
        config.setProperty("filterLabelValueCharacters", "false");
        return started(config);
    }

    static String scrape(String host, int port) throws IOException {
        HttpURLConnection http =
                (HttpURLConnection) new URL("http://" + host + ":" + port + "/metrics").openConnection();
        assertEquals(200, http.getResponseCode());
        try (InputStream body = http.getInputStream()) {
            return new String(body.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void servesFlinksNamesAndLabelsOnTheConfiguredHost() throws IOException {
        AddressBoundPrometheusReporter reporter = onAnyLoopbackPort();
        try {
            SimpleCounter decisions = new SimpleCounter();
            decisions.inc(3);
            reporter.notifyOfAddedMetric(decisions, "total", new OperatorGroup());
            String text = scrape("127.0.0.1", reporter.port());
            String sample =
                    text.lines()
                            .filter(line -> line.startsWith("flink_taskmanager_fraudguard_outcome_total{"))
                            .findFirst()
                            .orElseThrow(() -> new AssertionError(text));
            // Labels in any order; the job name's dash kept (filterLabelValueCharacters false).
            assertTrue(sample.contains("job_name=\"fraudguard-scoring\""), sample);
            assertTrue(sample.contains("outcome=\"approve\""), sample);
            assertTrue(sample.endsWith("} 3.0"), sample);
        } finally {
            reporter.close();
        }
    }

    @Test
    void holdsTheConfiguredAddressOnly() throws IOException {
        AddressBoundPrometheusReporter reporter = onAnyLoopbackPort();
        try {
            // Bound to 127.0.0.1 alone, the port stays free on every other address; a reporter
            // on the wildcard address (Flink's own) would make this bind fail.
            try (ServerSocket other = new ServerSocket()) {
                other.bind(new InetSocketAddress("127.0.0.2", reporter.port()));
            }
        } finally {
            reporter.close();
        }
    }

    @Test
    void aTakenPortMovesOnToTheNextOfItsRange() throws IOException {
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress("127.0.0.1", 0));
            int busy = taken.getLocalPort();
            MetricConfig config = new MetricConfig();
            config.setProperty("port", busy + "-" + (busy + 20));
            AddressBoundPrometheusReporter reporter = started(config);
            try {
                assertTrue(reporter.port() > busy && reporter.port() <= busy + 20);
                scrape("127.0.0.1", reporter.port());
            } finally {
                reporter.close();
            }
        }
    }
}
