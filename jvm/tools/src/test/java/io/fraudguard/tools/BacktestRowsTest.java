package io.fraudguard.tools;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fraudguard.features.BuildFeatures;
import io.fraudguard.features.FeatureKernel;
import io.fraudguard.features.FeatureSpec;
import io.fraudguard.features.FraudLabel;
import io.fraudguard.features.Txn;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BacktestRowsTest {
    private static final long DAY = 86_400_000L;
    private static final long[] DELAYS = {0, 1, 60_000, 3_600_000, DAY, 3 * DAY};
    private static final String LAYOUT = "{\"pointer_file\": \"champion.json\","
            + " \"metadata_file\": \"metadata.json\", \"trees_file\": \"trees.json\","
            + " \"version_pattern\": \".+\", \"trees_format\": \"fraudguard-trees-1\"}";

    /** Fraud labels of every fifth payment, reported a delay after it, as JSON lines. */
    private static List<FraudLabel> labels(List<Txn> txns) {
        List<FraudLabel> labels = new ArrayList<>();
        for (int i = 0; i < txns.size(); i += 5) {
            Txn t = txns.get(i);
            labels.add(new FraudLabel(t.txnId(), t.tsMs() + DELAYS[i / 5 % DELAYS.length],
                    t.cardId(), t.merchantId(), t.terminalId()));
        }
        return labels;
    }

    private static Path write(Path dir, List<FraudLabel> labels) throws Exception {
        ObjectMapper json = new ObjectMapper();
        List<String> lines = new ArrayList<>();
        for (FraudLabel l : labels) {
            lines.add(json.createObjectNode().put("txn_id", l.txnId())
                    .put("reported_ms", l.reportedMs()).put("card_id", l.cardId())
                    .put("merchant_id", l.merchantId()).put("terminal_id", l.terminalId())
                    .toString());
        }
        return Files.write(dir.resolve("labels.jsonl"), lines);
    }

    /** The features of every row of BacktestRows' batches, in order. */
    private static List<double[]> features(byte[] out, int width) {
        ByteBuffer b = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
        List<double[]> rows = new ArrayList<>();
        for (int n = b.getInt(); n > 0; n = b.getInt()) {
            for (int s = 0; s < BacktestRows.STRINGS.length; s++) {
                int length = b.getInt();
                b.position(b.position() + 4 * (n + 1) + length);
            }
            b.position(b.position() + 8 * n + 8 * n + n); // ts_ms, amount, late
            double[][] columns = new double[width][n];
            for (int f = 0; f < width; f++) {
                for (int r = 0; r < n; r++) {
                    columns[f][r] = b.getDouble();
                }
            }
            b.position(b.position() + 8 * n); // the one version's scores
            for (int r = 0; r < n; r++) {
                double[] row = new double[width];
                for (int f = 0; f < width; f++) {
                    row[f] = columns[f][r];
                }
                rows.add(row);
            }
        }
        return rows;
    }

    @Test
    void labelsFeedTheFeaturesAsInTheOfflineLoopOnBothThreads(@TempDir Path dir) throws Exception {
        Path specFile = Path.of(System.getProperty("fraudguard.contracts"), "feature-spec.json");
        FeatureSpec spec = FeatureSpec.read(specFile);
        Path file = Payments.file(dir, 3000);
        List<Txn> txns = BuildFeatures.read(spec, file);
        List<FraudLabel> labels = labels(txns);
        labels.sort(BuildFeatures.LABEL_ORDER);
        // The definition: one thread, the file's order, every label reported before a payment
        // applied before it.
        BuildFeatures.Offline offline = new BuildFeatures.Offline(new FeatureKernel(spec), DAY);
        List<double[]> want = new ArrayList<>();
        int label = 0;
        for (Txn txn : txns) {
            for (; label < labels.size() && labels.get(label).reportedMs() < txn.tsMs(); label++) {
                offline.label(labels.get(label));
            }
            double[] row = offline.next(txn);
            if (row != null) {
                want.add(row);
            }
        }

        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        PrintStream stdout = System.out;
        System.setOut(new PrintStream(printed, true));
        Path summary = dir.resolve("summary.json");
        try {
            BacktestRows.main(new String[] {specFile.toString(), dir.resolve("models").toString(),
                LAYOUT, "rules", Long.toString(DAY), Long.toString(Long.MIN_VALUE),
                Long.toString(Long.MAX_VALUE), "97", file.toString(), summary.toString(),
                write(dir, labels).toString()});
        } finally {
            System.setOut(stdout);
        }
        List<double[]> got = features(printed.toByteArray(), spec.size());
        assertEquals(want.size(), got.size());
        for (int r = 0; r < want.size(); r++) {
            assertArrayEquals(want.get(r), got.get(r), "row " + r);
        }
        JsonNode s = new ObjectMapper().readTree(summary.toFile());
        assertEquals(labels.size(), s.get("labels_read").asInt());
        assertEquals(label, s.get("labels_applied").asInt());
        assertTrue(label < labels.size() && label > labels.size() / 2, s.toString());
        int confirmed = spec.names.indexOf("card_confirmed_fraud");
        assertTrue(got.stream().anyMatch(row -> row[confirmed] > 0));
    }
}
