package io.fraudguard.flink;

import io.fraudguard.features.BuildFeatures;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.checkpoint.SavepointType;
import org.apache.flink.runtime.state.StateBackend;
import org.apache.flink.runtime.state.hashmap.HashMapStateBackend;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;

/**
 * One of the job's keyed feature steps (card, merchant, device) in Flink's operator test harness
 * on a real state backend, fed what it receives in the job. Used to write savepoints of the
 * steps' state and to restore them with later code.
 */
final class StepHarness {
    static final long DAY = 86_400_000L;
    /** The job's default dedupe TTL, so the card's retried ids live across a restore. */
    static final long DEDUPE_TTL_MS = DAY;
    /** Small, so the merchant cache evicts and writes to keyed state between checkpoints. */
    static final int MERCHANT_CACHE = 2;
    static final List<String> STEPS = List.of("card", "merchant", "device");
    private static final int MAX_PARALLELISM = 128;
    /**
     * In arrival order, as the savepoints were written: their payments include one arriving
     * after a later one of its card, which must stay late ({@code EventTimeOrderTest} covers
     * the event-time order).
     */
    private static final boolean IN_EVENT_TIME_ORDER = false;

    /** The state backends the savepoints are written with: the job's default, and the heap. */
    enum Backend {
        ROCKSDB,
        HEAP;

        StateBackend create() {
            return this == ROCKSDB ? new EmbeddedRocksDBStateBackend() : new HashMapStateBackend();
        }

        String fileName() {
            return name().toLowerCase();
        }
    }

    private StepHarness() {}

    /** The savepoint of {@code step}'s state written on {@code backend} in {@code layout}. */
    static String fileName(String step, Backend backend, int layout) {
        return step + "-" + backend.fileName() + "-v" + layout + ".snapshot";
    }

    /** {@code step} on {@code backend}, open, its state {@code restored} (null: empty). */
    static KeyedOneInputStreamOperatorTestHarness<String, Enriched, Enriched> open(
            String step, String specJson, Backend backend, OperatorSubtaskState restored)
            throws Exception {
        return open(step, specJson, backend, restored, IN_EVENT_TIME_ORDER);
    }

    /** The same, in event-time order or not. */
    static KeyedOneInputStreamOperatorTestHarness<String, Enriched, Enriched> open(
            String step, String specJson, Backend backend, OperatorSubtaskState restored,
            boolean inEventTimeOrder) throws Exception {
        OneInputStreamOperator<Enriched, Enriched> operator = switch (step) {
            case "card" -> new KeyedProcessOperator<>(
                    new FeatureSteps.Card(specJson, DEDUPE_TTL_MS, inEventTimeOrder));
            case "merchant" -> new MerchantStep(specJson, MERCHANT_CACHE, inEventTimeOrder);
            default -> new KeyedProcessOperator<>(
                    new FeatureSteps.Device(specJson, inEventTimeOrder));
        };
        var harness = new KeyedOneInputStreamOperatorTestHarness<>(
                operator, new EntityKey(step), Types.STRING, MAX_PARALLELISM, 1, 0);
        harness.setStateBackend(backend.create());
        if (restored == null) {
            harness.initializeEmptyState();
        } else {
            harness.initializeState(restored);
        }
        harness.open();
        return harness;
    }

    /** What {@code harness} emits for {@code records}, in order; its output is emptied. */
    static List<Enriched> process(
            KeyedOneInputStreamOperatorTestHarness<String, Enriched, Enriched> harness,
            List<Enriched> records) throws Exception {
        for (Enriched e : records) {
            harness.processElement(new StreamRecord<>(e, e.tsMs));
        }
        List<Enriched> out = new ArrayList<>(harness.extractOutputValues());
        harness.getOutput().clear();
        return out;
    }

    /**
     * {@code step}'s state as a savepoint in the canonical format holds it: what an upgrade
     * starts from, whichever backend wrote it.
     */
    static OperatorSubtaskState savepoint(
            KeyedOneInputStreamOperatorTestHarness<String, Enriched, Enriched> harness)
            throws Exception {
        SavepointType savepoint = SavepointType.savepoint(SavepointFormatType.CANONICAL);
        return harness.snapshotWithLocalState(1L, 1L, savepoint).getJobManagerOwnedState();
    }

    /**
     * The records {@code step} receives in the job for {@code payments[from, to)}, fresh, with
     * every feature NaN (so what the step writes shows): all of them for the card step; for the
     * others, without retried ids and with the card's previous sightings at the merchant and
     * terminal, as the card step leaves them. {@code kernel} has seen {@code payments[0, from)}.
     */
    static List<Enriched> inputs(String step, BuildFeatures.Offline kernel, int features,
            List<Enriched> payments, int from, int to) throws Exception {
        List<Enriched> records = new ArrayList<>();
        long[] seen = new long[2];
        for (Enriched p : payments.subList(from, to)) {
            Enriched e = transaction(p);
            e.features = new double[features];
            boolean answered = kernel.card(e.txn(), e.features, seen);
            Arrays.fill(e.features, Double.NaN);
            if (step.equals("card") || answered) {
                records.add(e);
            }
            if (answered && !step.equals("card")) {
                e.seenAtMerchantMs = seen[0];
                e.seenAtTerminalMs = seen[1];
            }
        }
        return records;
    }

    /** A record with {@code p}'s transaction and nothing else. */
    private static Enriched transaction(Enriched p) {
        Enriched e = new Enriched();
        e.txnId = p.txnId;
        e.tsMs = p.tsMs;
        e.cardId = p.cardId;
        e.merchantId = p.merchantId;
        e.terminalId = p.terminalId;
        e.deviceId = p.deviceId;
        e.amountEur = p.amountEur;
        e.country = p.country;
        e.channel = p.channel;
        return e;
    }

    /**
     * A deterministic 50 days of payments of five cards at five merchants (three terminals
     * each) with three shared devices: payments of the same millisecond, retried ids (one
     * retried across the split at {@link #SPLIT}) and a payment arriving after a later one of
     * its card. Longer than the card's 30-day history, so events leave it.
     */
    static List<Enriched> payments() {
        long start = 1_767_225_600_000L; // 2026-01-01T00:00:00Z
        List<Enriched> all = new ArrayList<>();
        long ts = start;
        for (int i = 0; i < 200; i++) {
            if (i % 10 != 3) { // every tenth payment shares its predecessor's millisecond
                ts += 5 * 3_600_000L + (i * 7_919L) % 3_600_000L;
            }
            Enriched e = new Enriched();
            e.txnId = "t" + (1_000 + i);
            e.tsMs = ts;
            e.cardId = "c" + (i * 3 % 5);
            e.merchantId = "m" + (i * 7 % 5);
            e.terminalId = e.merchantId + "-t" + (i % 3);
            e.deviceId = i % 4 == 0 ? null : "d" + (i % 3);
            e.amountEur = 5 + (i * 37 % 200) + 0.25 * (i % 4);
            e.country = i % 6 == 0 ? "DE" : i % 11 == 0 ? "BE" : "FR";
            e.channel = i % 2 == 0 ? "online" : "card_present";
            all.add(e);
        }
        all.add(60, retry(all.get(59), 1));
        all.add(SPLIT, retry(all.get(SPLIT - 1), 2)); // its first sighting is in the snapshot
        Enriched late = all.get(SPLIT + 20);
        late.tsMs = all.get(SPLIT + 18).tsMs - 2 * 3_600_000L;
        late.cardId = all.get(SPLIT + 18).cardId;
        return all;
    }

    /** Payments before it are in the snapshots; those from it on are fed after a restore. */
    static final int SPLIT = 141;

    private static Enriched retry(Enriched original, long laterMs) {
        Enriched e = transaction(original);
        e.tsMs += laterMs;
        return e;
    }
}
