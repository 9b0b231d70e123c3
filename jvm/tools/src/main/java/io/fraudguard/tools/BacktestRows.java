package io.fraudguard.tools;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import io.fraudguard.features.BuildFeatures;
import io.fraudguard.features.FeatureKernel;
import io.fraudguard.features.FeatureSpec;
import io.fraudguard.features.FraudLabel;
import io.fraudguard.features.Txn;
import io.fraudguard.scoring.ChampionModel;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * The backtest's JVM half: streams a file of transactions (FraudGuard's wire format, one JSON
 * object a line) through the job's feature kernel and scorer in the file's order, as the job
 * meets a topic, and writes each answered transaction with its features and scores to stdout
 * in batches for {@code fraudguard.backtest.rows}; the state held is the entities', never the
 * file's.
 *
 * <p>Usage: {@code BacktestRows SPEC.json MODELS_DIR LAYOUT VERSIONS DEDUPE_TTL_MS FROM_MS TO_MS
 * BATCH TRANSACTIONS.jsonl SUMMARY.json [LABELS.jsonl]}. {@code VERSIONS}: comma-separated
 * registry versions, {@code champion} for the one the pointer names, {@code rules} for none (NaN
 * scores). Every transaction feeds the states; only those with {@code FROM_MS <= ts_ms < TO_MS}
 * are written. {@code LABELS.jsonl} holds fraud labels as {@link BuildFeatures#readLabels} reads
 * them: before each transaction, every label reported before its {@code ts_ms} feeds the
 * label-fed features (the card's on the card step's thread, the merchant's and terminal's on the
 * other), in {@link BuildFeatures#LABEL_ORDER}. The file is taken in its order, as the job meets
 * a topic, so for a time-ordered file this is the job's processing order.
 *
 * <p>A batch, little-endian: int32 n (0 ends the stream); per string column ({@link #STRINGS})
 * int32 byte length, int32[n + 1] offsets, the UTF-8 bytes (Arrow's string layout); int64[n]
 * ts_ms; float64[n] amount; uint8[n] late; float64[n] per feature, column by column; per version
 * float64[n] scores.
 */
public final class BacktestRows {
    static final String[] STRINGS = {
        "txn_id", "card_id", "event_time", "merchant_id", "currency", "mcc", "country", "channel",
        "terminal_id"};

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
        if (args.length < 10 || args.length > 11) {
            System.err.println("usage: BacktestRows SPEC MODELS_DIR LAYOUT VERSIONS DEDUPE_TTL_MS"
                    + " FROM_MS TO_MS BATCH TRANSACTIONS.jsonl SUMMARY.json [LABELS.jsonl]");
            System.exit(2);
        }
        List<FraudLabel> labels =
                args.length == 11 ? BuildFeatures.readLabels(Path.of(args[10])) : List.of();
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
        long answered = 0, written = 0, started = System.nanoTime();
        long entitiesNs = 0; // where the time goes, with the reader's, the card step's, the writer's
        OutputStream out = new BufferedOutputStream(System.out, 1 << 20);
        BacktestWriter writer = new BacktestWriter(batchSize, spec.size(), scorers, out);
        BacktestBatch batch = writer.take();
        // Three threads in a row, each in the file's order: reading and parsing, the card step,
        // then (here) the merchant, terminal and device steps; the writer scores and writes.
        Reader reader = new Reader(Path.of(args[8]), spec);
        CardStep cardStep = new CardStep(reader, offline, spec.size(), labels);
        int label = 0; // the next label for the merchant and terminal states
        for (Chunk chunk = cardStep.take(); ; chunk = cardStep.take()) {
            long t0 = System.nanoTime();
            for (int i = 0; i < chunk.n; i++) {
                Txn txn = chunk.txns[i];
                long ts = txn.tsMs();
                for (; label < labels.size() && labels.get(label).reportedMs() < ts; label++) {
                    offline.entityLabel(labels.get(label));
                }
                double[] features = chunk.features[i];
                if (features == null) {
                    continue; // a retried id: the job answers it once
                }
                answered++;
                offline.entities(txn, chunk.seen[2 * i], chunk.seen[2 * i + 1], features);
                // The job's card, merchant and device steps each mark a transaction late.
                boolean late = cards.arrivedLate(txn.cardId(), ts);
                late |= merchants.arrivedLate(txn.merchantId(), ts);
                if (txn.deviceId() != null) {
                    late |= devices.arrivedLate(txn.deviceId(), ts);
                }
                if (ts < fromMs || ts >= toMs) {
                    continue;
                }
                written++;
                batch.add(chunk.lines[i].text, ts, chunk.lines[i].amount, late, features);
                if (batch.full()) {
                    entitiesNs += System.nanoTime() - t0;
                    writer.put(batch);
                    batch = writer.take();
                    t0 = System.nanoTime();
                }
            }
            entitiesNs += System.nanoTime() - t0;
            if (chunk.last) {
                break;
            }
        }
        long lines = reader.lines;
        long parseNs = reader.parseNs;
        long featuresNs = cardStep.cardNs + entitiesNs;
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
                        + " \"labels_read\": %d, \"labels_applied\": %d,"
                        + " \"jvm_live_heap_mb\": %.1f}%n",
                lines, answered, written, (System.nanoTime() - started) / 1e9, parseNs / 1e9,
                featuresNs / 1e9, writer.scoreNs / 1e9, writer.writeNs / 1e9, served, peakHeapMb(),
                cards.size(), merchants.size(), devices.size(), labels.size(), label,
                liveHeapMb(offline)));
    }

    /** Consecutive lines of the file, parsed, then with their card step's results. */
    static final class Chunk {
        static final int SIZE = 1024;
        final BacktestLine[] lines = new BacktestLine[SIZE];
        final Txn[] txns = new Txn[SIZE];
        final double[][] features = new double[SIZE][]; // null: a retried id
        final long[] seen = new long[2 * SIZE]; // per row, the card's last merchant, terminal
        int n;
        boolean last;
        Exception failed; // the stage's error, raised again by the next one
    }

    /** A thread that takes chunks from the stage before it and hands them on, in order. */
    abstract static class Stage implements Runnable {
        private final BlockingQueue<Chunk> done = new ArrayBlockingQueue<>(8);

        final void start(String name) {
            Thread thread = new Thread(this, name);
            thread.setDaemon(true); // a failure ends main, which ends the process
            thread.start();
        }

        abstract Chunk next() throws Exception;

        @Override
        public final void run() {
            try {
                for (Chunk chunk = null; chunk == null || !chunk.last; ) {
                    try {
                        chunk = next();
                    } catch (Exception e) {
                        chunk = new Chunk();
                        chunk.last = true;
                        chunk.failed = e;
                    }
                    done.put(chunk);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        /** The next chunk, in order; throws what this stage or one before it failed with. */
        Chunk take() throws Exception {
            Chunk chunk = done.take();
            if (chunk.failed != null) {
                throw chunk.failed;
            }
            return chunk;
        }
    }

    /** Reads and parses the file's lines. */
    static final class Reader extends Stage {
        private final JsonParser in;
        private final FeatureSpec spec;
        long lines, parseNs; // read by main after the last chunk: the queue orders it

        Reader(Path file, FeatureSpec spec) throws IOException {
            this.in = new JsonFactory().createParser(file.toFile());
            this.spec = spec;
            start("backtest-reader");
        }

        @Override
        Chunk next() throws IOException {
            long t0 = System.nanoTime();
            Chunk chunk = new Chunk();
            while (chunk.n < Chunk.SIZE) {
                BacktestLine f = BacktestLine.next(in);
                if (f == null) {
                    chunk.last = true;
                    in.close();
                    break;
                }
                lines++;
                String[] text = f.text;
                chunk.lines[chunk.n] = f;
                chunk.txns[chunk.n++] = new Txn(text[0], BacktestLine.tsMs(text[2]), text[1],
                        text[3], text[8], spec.toEur(f.amount, text[4]), text[6], text[7],
                        f.deviceId);
            }
            parseNs += System.nanoTime() - t0;
            return chunk;
        }
    }

    /**
     * The card step (dedupe, the transaction's and the card's features) of each line, after the
     * card's part of every label reported before the line's time.
     */
    static final class CardStep extends Stage {
        private final Stage before;
        private final BuildFeatures.Offline offline;
        private final int width;
        private final List<FraudLabel> labels;
        private int label; // the next label for the card states
        private final long[] seen = new long[2];
        long cardNs;

        CardStep(Stage before, BuildFeatures.Offline offline, int width, List<FraudLabel> labels) {
            this.before = before;
            this.offline = offline;
            this.width = width;
            this.labels = labels;
            start("backtest-card-step");
        }

        @Override
        Chunk next() throws Exception {
            Chunk chunk = before.take();
            long t0 = System.nanoTime();
            for (int i = 0; i < chunk.n; i++) {
                long ts = chunk.txns[i].tsMs();
                for (; label < labels.size() && labels.get(label).reportedMs() < ts; label++) {
                    offline.cardLabel(labels.get(label));
                }
                double[] out = new double[width];
                if (offline.card(chunk.txns[i], out, seen)) {
                    chunk.features[i] = out;
                    chunk.seen[2 * i] = seen[0];
                    chunk.seen[2 * i + 1] = seen[1];
                }
            }
            cardNs += System.nanoTime() - t0;
            return chunk;
        }
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

        /** The score of the row at {@code offset} of {@code rows}. */
        double score(double[] rows, int offset) {
            return served == null ? Double.NaN : served.trees().predict(rows, offset);
        }
    }
}
