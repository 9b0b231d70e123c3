package io.fraudguard.flink;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.HashMap;
import java.util.Map;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichFlatMapFunction;
import org.apache.flink.metrics.Counter;
import org.apache.flink.util.Collector;

/**
 * A record of the {@code labels} topic to the fraud label the feature steps keep
 * ({@link Enriched#fraudLabel}), by the rules of {@code fraudguard.features.labels.fraud_label}:
 * a label feeds the features when it says {@code fraud}, has a {@code reported_at} with a UTC
 * offset and names its payment's {@code card_id}, {@code merchant_id} and {@code terminal_id}.
 * The others still teach the re-ranker (whose learner dead-letters the bad ones); here they are
 * counted by reason (metric {@code fraudguard_labels_unused_reason_total}:
 * {@code bad_label}, {@code legit}, {@code no_entities}), never silently dropped. {@code contracts/label-cases.json} holds the
 * cases both languages are tested on.
 */
public class ParseLabel extends RichFlatMapFunction<byte[], Enriched> {
    private static final long serialVersionUID = 1L;
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String BAD = "bad_label", LEGIT = "legit", NO_ENTITIES = "no_entities";
    private transient Counter fed;
    private transient Map<String, Counter> unused;

    /** What became of one label: the fraud label, or null and why not. */
    record Outcome(Enriched label, String unusedBecause) {}

    @Override
    public void open(OpenContext context) {
        // Named as fraudguard.metrics.names declares them (LABELS_FED, LABELS_UNUSED).
        var labels = getRuntimeContext().getMetricGroup().addGroup("fraudguard").addGroup("labels");
        fed = labels.counter("fed_total");
        unused = new HashMap<>();
        for (String reason : new String[] {BAD, LEGIT, NO_ENTITIES}) {
            unused.put(reason, labels.addGroup("unused").addGroup("reason", reason).counter("total"));
        }
    }

    @Override
    public void flatMap(byte[] record, Collector<Enriched> out) {
        Outcome outcome = read(record);
        if (outcome.label() != null) {
            fed.inc();
            out.collect(outcome.label());
        } else {
            unused.get(outcome.unusedBecause()).inc();
        }
    }

    /** The fraud label of {@code record}, or why it feeds no feature. */
    static Outcome read(byte[] record) {
        JsonNode doc;
        try {
            doc = record == null ? null : JSON.readTree(record);
        } catch (java.io.IOException e) {
            return new Outcome(null, BAD);
        }
        if (doc == null || !doc.isObject()) {
            return new Outcome(null, BAD);
        }
        String txnId = text(doc, "txn_id");
        String label = text(doc, "label");
        String reported = text(doc, "reported_at");
        if (txnId == null || !("fraud".equals(label) || "legit".equals(label)) || reported == null) {
            return new Outcome(null, BAD);
        }
        long reportedMs;
        try {
            reportedMs = OffsetDateTime.parse(reported).toInstant().toEpochMilli();
        } catch (DateTimeParseException | ArithmeticException e) {
            return new Outcome(null, BAD);
        }
        if (label.equals("legit")) {
            return new Outcome(null, LEGIT);
        }
        String card = text(doc, "card_id"), merchant = text(doc, "merchant_id");
        String terminal = text(doc, "terminal_id");
        if (card == null || merchant == null || terminal == null) {
            return new Outcome(null, NO_ENTITIES);
        }
        return new Outcome(Enriched.fraudLabel(txnId, reportedMs, card, merchant, terminal), null);
    }

    /** A non-empty string field, else null. */
    private static String text(JsonNode doc, String field) {
        JsonNode v = doc.get(field);
        return v != null && v.isTextual() && !v.asText().isEmpty() ? v.asText() : null;
    }

    /** The labels' event time is when they were reported; their watermark, {@link LabelClock}. */
    public static WatermarkStrategy<Enriched> watermarks(long startMs, long quietMs) {
        WatermarkStrategy<Enriched> clock = context -> new LabelClock(startMs, quietMs);
        return clock.withTimestampAssigner((e, previous) -> e.tsMs);
    }
}
