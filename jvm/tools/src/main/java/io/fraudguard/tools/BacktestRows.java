package io.fraudguard.tools;

import com.fasterxml.jackson.core.JsonFactory;
import io.fraudguard.features.BuildFeatures;
import io.fraudguard.features.FeatureKernel;
import io.fraudguard.features.FeatureSpec;
import io.fraudguard.features.Txn;
import io.fraudguard.scoring.ChampionModel;
import java.io.BufferedOutputStream;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * The backtest's JVM half: streams a file of transactions (FraudGuard's wire format, one JSON
 * object a line) through the job's feature kernel and scorer in the file's order, as the job
 * meets a topic, and writes each answered transaction with its features and scores to stdout
 * in batches for {@code fraudguard.backtest.rows}; the state held is the entities', never the
 * file's.
 *
 * <p>Usage: {@code BacktestRows SPEC.json MODELS_DIR LAYOUT VERSIONS DEDUPE_TTL_MS FROM_MS TO_MS
 * BATCH TRANSACTIONS.jsonl SUMMARY.json}. {@code VERSIONS}: comma-separated registry versions,
 * {@code champion} for the one the pointer names, {@code rules} for none (NaN scores). Every
 * transaction feeds the states; only those with {@code FROM_MS <= ts_ms < TO_MS} are written.
 *
 * <p>A batch, little-endian: int32 n (0 ends the stream); per string column ({@link #STRINGS})
 * int32 byte length, int32[n + 1] offsets, the UTF-8 bytes (Arrow's string layout); int64[n]
 * ts_ms; float64[n] amount; uint8[n] late; float64[n * features] row by row; per version
 * float64[n] scores.
 */
public final class BacktestRows {
    static final String[] STRINGS = {
        "txn_id", "card_id", "event_time", "merchant_id", "currency", "mcc", "country", "channel"};

    private BacktestRows() {}

    /** Whether a transaction arrives after a later one of its entity, as the job's steps say. */
    static final class Lateness {
        private final Map<String, Long> newest = new HashMap<>();

        int size() {
            return newest.size();
        }

        boolean arrivedLate(String key, long tsMs) {
            Long seen = newest.get(key);
            if (seen == null || tsMs >= seen) {
                newest.put(key, tsMs);
                return false;
            }
            return true;
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 10) {
            System.err.println("usage: BacktestRows SPEC MODELS_DIR LAYOUT VERSIONS DEDUPE_TTL_MS"
                    + " FROM_MS TO_MS BATCH TRANSACTIONS.jsonl SUMMARY.json");
            System.exit(2);
        }
        FeatureSpec spec = FeatureSpec.read(Path.of(args[0]));
        String[] versions = args[3].split(",");
        CompiledScorer[] scorers = new CompiledScorer[versions.length];
        ChampionModel models = new ChampionModel(Path.of(args[1]), args[2], spec.names, 1000);
        for (int v = 0; v < versions.length; v++) {
            scorers[v] = CompiledScorer.load(models, versions[v]);
        }
        long fromMs = Long.parseLong(args[5]);
        long toMs = Long.parseLong(args[6]);
        int batchSize = Integer.parseInt(args[7]);
        BuildFeatures.Offline offline =
                new BuildFeatures.Offline(new FeatureKernel(spec), Long.parseLong(args[4]));
        Lateness cards = new Lateness(), merchants = new Lateness(), devices = new Lateness();
        JsonFactory json = new JsonFactory();
        long lines = 0, answered = 0, written = 0, started = System.nanoTime();
        long parseNs = 0, featuresNs = 0; // where the time goes, with the writer's
        OutputStream out = new BufferedOutputStream(System.out, 1 << 20);
        BacktestWriter writer = new BacktestWriter(batchSize, spec.size(), scorers, out);
        BacktestBatch batch = writer.take();
        try (BufferedReader in =
                Files.newBufferedReader(Path.of(args[8]), StandardCharsets.UTF_8)) {
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                if (line.isBlank()) {
                    continue;
                }
                lines++;
                long t0 = System.nanoTime();
                BacktestLine f = BacktestLine.parse(json, line);
                String[] text = f.text;
                String device = f.deviceId;
                long ts = BacktestLine.tsMs(text[2]);
                double amount = f.amount;
                Txn txn = new Txn(text[0], ts, text[1], text[3], f.terminalId,
                        spec.toEur(amount, text[4]), text[6], text[7], device);
                long t1 = System.nanoTime();
                parseNs += t1 - t0;
                double[] features = offline.next(txn);
                if (features == null) {
                    continue; // a retried id: the job answers it once
                }
                answered++;
                // The job's card, merchant and device steps each mark a transaction late.
                boolean late = cards.arrivedLate(txn.cardId(), ts);
                late |= merchants.arrivedLate(txn.merchantId(), ts);
                if (device != null) {
                    late |= devices.arrivedLate(device, ts);
                }
                featuresNs += System.nanoTime() - t1;
                if (ts < fromMs || ts >= toMs) {
                    continue;
                }
                written++;
                batch.add(text, ts, amount, late, features);
                if (batch.full()) {
                    writer.put(batch);
                    batch = writer.take();
                }
            }
        }
        writer.finish(batch);
        StringBuilder served = new StringBuilder();
        for (CompiledScorer s : scorers) {
            served.append(served.length() == 0 ? "\"" : ",\"").append(s.version()).append('"');
        }
        Files.writeString(Path.of(args[9]), String.format(
                "{\"lines\": %d, \"answered\": %d, \"written\": %d, \"jvm_s\": %.3f,"
                        + " \"parse_s\": %.3f, \"features_s\": %.3f, \"score_s\": %.3f,"
                        + " \"write_s\": %.3f, \"versions\": [%s], \"jvm_peak_heap_mb\": %.1f,"
                        + " \"cards\": %d, \"merchants\": %d, \"devices\": %d,"
                        + " \"jvm_live_heap_mb\": %.1f}%n",
                lines, answered, written, (System.nanoTime() - started) / 1e9, parseNs / 1e9,
                featuresNs / 1e9, writer.scoreNs / 1e9, writer.writeNs / 1e9, served, peakHeapMb(),
                cards.size(), merchants.size(), devices.size(), liveHeapMb(offline)));
    }

    /**
     * The heap still in use after a full collection while the states are reachable: what the
     * entities hold (and the spec and models), against which the file's length should not count.
     */
    static double liveHeapMb(Object states) {
        System.gc();
        Runtime runtime = Runtime.getRuntime();
        double used = (runtime.totalMemory() - runtime.freeMemory()) / 1048576.0;
        java.lang.ref.Reference.reachabilityFence(states);
        return used;
    }

    static double peakHeapMb() {
        long peak = 0;
        for (var pool : java.lang.management.ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == java.lang.management.MemoryType.HEAP && pool.getPeakUsage() != null) {
                peak += pool.getPeakUsage().getUsed();
            }
        }
        return peak / 1048576.0;
    }

    /** A registry version's trees, or none (the rules answer: NaN). */
    record CompiledScorer(String version, ChampionModel.Served served) {
        static CompiledScorer load(ChampionModel models, String name) throws IOException {
            if (name.equals("rules")) {
                return new CompiledScorer("rules", null);
            }
            ChampionModel.Served s =
                    name.equals("champion") ? models.loadChampion() : models.loadVersion(name);
            return s == null ? new CompiledScorer("rules", null) : new CompiledScorer(s.version(), s);
        }

        double score(double[] features) {
            return served == null ? Double.NaN : served.trees().predict(features);
        }
    }
}
