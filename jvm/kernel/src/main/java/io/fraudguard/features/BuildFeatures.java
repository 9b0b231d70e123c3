package io.fraudguard.features;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The offline path on the JVM kernel: every transaction of a file with its features, in
 * processing order, retried ids once; {@code fraudguard.features.build_features} runs it.
 *
 * <p>Usage: {@code BuildFeatures SPEC.json TRANSACTIONS.jsonl DEDUPE_TTL_MS OUT
 * [arrival | LABELS.jsonl]}. Input lines are validated transactions (the fields of
 * {@code Transaction}, {@code ts_ms} included). They are processed in {@code (ts_ms, txn_id)}
 * order, or with {@code arrival} in the order of the file, as the job meets a stream. Lines of
 * {@code LABELS.jsonl} are fraud labels ({@code txn_id}, {@code reported_ms}, {@code card_id},
 * {@code merchant_id}, {@code terminal_id}), applied in processing order among the payments:
 * after the payments of their own millisecond. Writes {@code OUT.rows} (per row, the
 * input line it answers, little-endian int32) and {@code OUT.f64} (the features, row by row,
 * little-endian doubles in registry order), then one line of timings on stdout.
 */
public final class BuildFeatures {
    private BuildFeatures() {}

    /**
     * What becomes of a state after each step: nothing here; a check may put it through a
     * checkpoint's serializer or copy, as the job's state backend does.
     */
    public interface StateHook {
        FeatureKernel.CardState card(FeatureKernel.CardState state) throws Exception;

        BucketWindows buckets(BucketWindows state) throws Exception;

        RawEvents events(RawEvents state) throws Exception;

        default LabelWindows labels(LabelWindows state) throws Exception {
            return state;
        }
    }

    /**
     * Runs the three keyed steps in a loop with the states in maps, as the job does per key.
     * The card step ({@link #card}) and the others ({@link #entities}) touch separate states
     * and kernels, so a caller may run the two halves on two threads, each in processing order.
     */
    public static final class Offline {
        final FeatureKernel kernel;
        final FeatureKernel entityKernel; // its own work arrays, for the other thread
        final long dedupeTtlMs;
        final StateHook hook;
        final Map<String, FeatureKernel.CardState> cards = new HashMap<>();
        final Map<String, BucketWindows> merchants = new HashMap<>();
        final Map<String, BucketWindows> terminals = new HashMap<>();
        final Map<String, RawEvents> devices = new HashMap<>();
        final Map<String, LabelWindows> cardLabels = new HashMap<>();
        final Map<String, LabelWindows> merchantLabels = new HashMap<>();
        final Map<String, LabelWindows> terminalLabels = new HashMap<>();
        final long[] seen = new long[2]; // the card's previous sightings, merchant and terminal

        public Offline(FeatureKernel kernel, long dedupeTtlMs) {
            this(kernel, dedupeTtlMs, null);
        }

        public Offline(FeatureKernel kernel, long dedupeTtlMs, StateHook hook) {
            this.kernel = kernel;
            this.entityKernel = new FeatureKernel(kernel.spec);
            this.dedupeTtlMs = dedupeTtlMs;
            this.hook = hook;
        }

        /** A fraud label, in processing order among the payments: for the card step's state
         * ({@link #cardLabel}) and the merchant step's ({@link #entityLabel}). */
        public void label(FraudLabel label) throws Exception {
            cardLabel(label);
            entityLabel(label);
        }

        /** A fraud label for the card's state (the card step's thread). */
        public void cardLabel(FraudLabel label) throws Exception {
            if (kernel.hasLabelFeatures("card")) {
                LabelWindows card = cardLabels.computeIfAbsent(
                        label.cardId(), k -> kernel.newLabelState("card"));
                kernel.fraudLabel(card, label.txnId(), label.reportedMs());
                if (hook != null) {
                    cardLabels.put(label.cardId(), hook.labels(card));
                }
            }
        }

        /** A fraud label for the merchant's and terminal's states (the other steps' thread). */
        public void entityLabel(FraudLabel label) throws Exception {
            for (String entity : new String[] {"merchant", "terminal"}) {
                if (entityKernel.hasLabelFeatures(entity)) {
                    String key = entity.equals("merchant") ? label.merchantId() : label.terminalId();
                    Map<String, LabelWindows> states =
                            entity.equals("merchant") ? merchantLabels : terminalLabels;
                    LabelWindows state = states.computeIfAbsent(
                            key, k -> entityKernel.newLabelState(entity));
                    entityKernel.fraudLabel(state, label.txnId(), label.reportedMs());
                    if (hook != null) {
                        states.put(key, hook.labels(state));
                    }
                }
            }
        }

        /** The features of {@code txn}, or null for a retried id. Call in processing order. */
        public double[] next(Txn txn) throws Exception {
            double[] out = new double[kernel.spec.size()];
            if (!card(txn, out, seen)) {
                return null;
            }
            entities(txn, seen[0], seen[1], out);
            return out;
        }

        /**
         * The card step: false for a retried id; else the transaction's and card's features in
         * {@code out}, and in {@code seen} when the card was last at this merchant and terminal.
         */
        public boolean card(Txn txn, double[] out, long[] seen) throws Exception {
            FeatureKernel.CardState card =
                    cards.computeIfAbsent(txn.cardId(), k -> kernel.newCardState(dedupeTtlMs));
            if (!kernel.card(card, txn, out, seen)) {
                return false;
            }
            if (hook != null) {
                cards.put(txn.cardId(), hook.card(card));
            }
            if (kernel.hasLabelFeatures("card")) {
                kernel.labelFeatures("card", cardLabels.get(txn.cardId()), txn.tsMs(), out);
            }
            return true;
        }

        /** The merchant, terminal and device steps, after {@link #card} answered the same txn. */
        public void entities(Txn txn, long seenMerchantMs, long seenTerminalMs, double[] out)
                throws Exception {
            BucketWindows merchant = merchants.computeIfAbsent(
                    txn.merchantId(), k -> entityKernel.newMerchantState());
            entityKernel.merchant(merchant, txn, seenMerchantMs, out);
            BucketWindows terminal = terminals.computeIfAbsent(
                    txn.terminalId(), k -> entityKernel.newTerminalState());
            entityKernel.terminal(terminal, txn, seenTerminalMs, out);
            RawEvents device = txn.deviceId() == null ? null
                    : devices.computeIfAbsent(txn.deviceId(), k -> entityKernel.newDeviceState());
            entityKernel.device(device, txn, out);
            labelFeatures("merchant", merchantLabels, txn.merchantId(), txn.tsMs(), out);
            labelFeatures("terminal", terminalLabels, txn.terminalId(), txn.tsMs(), out);
            if (hook != null) {
                merchants.put(txn.merchantId(), hook.buckets(merchant));
                terminals.put(txn.terminalId(), hook.buckets(terminal));
                if (device != null) {
                    devices.put(txn.deviceId(), hook.events(device));
                }
            }
        }

        private void labelFeatures(String entity, Map<String, LabelWindows> states, String key,
                long tsMs, double[] out) throws Exception {
            if (!entityKernel.hasLabelFeatures(entity)) {
                return;
            }
            LabelWindows state = states.get(key);
            if (state == null && entityKernel.countsPayments(entity)) {
                state = entityKernel.newLabelState(entity);
                states.put(key, state);
            }
            entityKernel.labelFeatures(entity, state, tsMs, out);
            if (hook != null && state != null) {
                states.put(key, hook.labels(state));
            }
        }
    }

    /** The fraud labels of a file, one JSON object a line, in processing order. */
    public static List<FraudLabel> readLabels(Path file) throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<FraudLabel> labels = new ArrayList<>();
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                if (!line.isBlank()) {
                    JsonNode l = json.readTree(line);
                    labels.add(new FraudLabel(l.get("txn_id").asText(), l.get("reported_ms").asLong(),
                            l.get("card_id").asText(), l.get("merchant_id").asText(),
                            l.get("terminal_id").asText()));
                }
            }
        }
        labels.sort(LABEL_ORDER);
        return labels;
    }

    /** The order labels of one millisecond are applied in. */
    public static final Comparator<FraudLabel> LABEL_ORDER =
            Comparator.comparingLong(FraudLabel::reportedMs).thenComparing(FraudLabel::txnId);

    /** The transactions of a file of validated transactions, one JSON object a line. */
    public static List<Txn> read(FeatureSpec spec, Path file) throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<Txn> txns = new ArrayList<>();
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                if (!line.isBlank()) {
                    txns.add(parse(json, spec, line));
                }
            }
        }
        return txns;
    }

    static Txn parse(ObjectMapper json, FeatureSpec spec, String line) throws IOException {
        JsonNode t = json.readTree(line);
        JsonNode device = t.get("device_id");
        return new Txn(
                t.get("txn_id").asText(),
                t.get("ts_ms").asLong(),
                t.get("card_id").asText(),
                t.get("merchant_id").asText(),
                t.get("terminal_id").asText(),
                spec.toEur(t.get("amount").asDouble(), t.get("currency").asText()),
                t.get("country").asText(),
                t.get("channel").asText(),
                device == null || device.isNull() ? null : device.asText());
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 4 || args.length > 5) {
            System.err.println("usage: BuildFeatures SPEC.json TRANSACTIONS.jsonl DEDUPE_TTL_MS OUT"
                    + " [arrival | LABELS.jsonl]");
            System.exit(2);
        }
        boolean arrival = args.length == 5 && args[4].equals("arrival");
        List<FraudLabel> labels = args.length == 5 && !arrival ? readLabels(Path.of(args[4])) : List.of();
        FeatureSpec spec = FeatureSpec.read(Path.of(args[0]));
        long dedupeTtlMs = Long.parseLong(args[2]);
        long started = System.nanoTime();
        List<Txn> txns = read(spec, Path.of(args[1]));
        Integer[] order = new Integer[txns.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        if (!arrival) {
            // Stable, like Python's sorted: ties keep the input order, so a later retry is dropped.
            Comparator<Integer> byTime = Comparator.comparingLong(i -> txns.get(i).tsMs());
            Arrays.sort(order, byTime.thenComparing(i -> txns.get(i).txnId()));
        }
        long parsed = System.nanoTime();
        Offline offline = new Offline(new FeatureKernel(spec), dedupeTtlMs);
        ByteBuffer rows = ByteBuffer.allocate(txns.size() * Integer.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer values = ByteBuffer.allocate(txns.size() * spec.size() * Double.BYTES)
                .order(ByteOrder.LITTLE_ENDIAN);
        int answered = 0, label = 0;
        for (int i : order) {
            long ts = txns.get(i).tsMs();
            for (; label < labels.size() && labels.get(label).reportedMs() < ts; label++) {
                offline.label(labels.get(label));
            }
            double[] out = offline.next(txns.get(i));
            if (out != null) {
                answered++;
                rows.putInt(i);
                for (double v : out) {
                    values.putDouble(v);
                }
            }
        }
        long evaluated = System.nanoTime();
        Path out = Path.of(args[3]);
        write(out.resolveSibling(out.getFileName() + ".rows"), rows);
        write(out.resolveSibling(out.getFileName() + ".f64"), values);
        System.out.printf("{\"transactions\": %d, \"rows\": %d, \"parse_s\": %.3f, \"evaluate_s\": %.3f}%n",
                txns.size(), answered, (parsed - started) / 1e9,
                (evaluated - parsed) / 1e9);
    }

    private static void write(Path path, ByteBuffer data) throws IOException {
        data.flip();
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE,
                StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            while (data.hasRemaining()) {
                channel.write(data);
            }
        }
    }
}
