package io.fraudguard.flink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fraudguard.features.FeatureSpec;
import java.nio.file.Files;
import java.util.List;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Fraud labels through the keyed steps, as the job feeds them: in event-time order, kept. */
class LabelStepsTest {
    private static final long T = 1_790_000_000_000L;

    private static Enriched payment(String id, long tsMs, int features) {
        Enriched e = new Enriched();
        e.txnId = id;
        e.tsMs = tsMs;
        e.cardId = "c1";
        e.merchantId = "m1";
        e.terminalId = "m1-t1";
        e.amountEur = 10.0;
        e.country = "FR";
        e.channel = "online";
        e.features = new double[features];
        e.json = "{}".getBytes();
        return e;
    }

    private static Enriched label(long reportedMs) {
        return Enriched.fraudLabel("earlier", reportedMs, "c1", "m1", "m1-t1");
    }

    /**
     * A label of a card, merchant and terminal reported at {@code T} and two payments around it
     * through {@code step}: the label state that its savepoint then holds. The payments see no
     * label (it is applied after its own millisecond's payments and before the next's); the
     * merchant and terminal have one fraud label per two payments.
     */
    static OperatorSubtaskState labelled(String step, String spec, StepHarness.Backend backend,
            int at) throws Exception {
        int n = FeatureSpec.parse(spec).size();
        try (var harness = StepHarness.open(step, spec, backend, null, true)) {
            // Arrival order differs from event-time order: the label of T comes first.
            List<Enriched> none = StepHarness.process(harness,
                    List.of(label(T), payment("p2", T + 1, n), payment("p1", T, n)));
            assertTrue(none.isEmpty(), "nothing leaves before the watermark passes it");
            harness.processWatermark(T + 5);
            List<Enriched> out = StepHarness.process(harness, List.of());
            assertEquals(List.of("p1", "earlier", "p2"), out.stream().map(e -> e.txnId).toList());
            assertEquals(0.0, out.get(0).features[at], "reported at the payment's own time");
            assertTrue(out.get(1).label);
            assertFalse(out.get(2).late);
            return StepHarness.savepoint(harness);
        }
    }

    /** Feature {@code at} of a third payment through {@code step} restored from {@code saved}. */
    static double afterRestore(String step, String spec, StepHarness.Backend backend,
            OperatorSubtaskState saved, int at) throws Exception {
        int n = FeatureSpec.parse(spec).size();
        try (var harness = StepHarness.open(step, spec, backend, saved, true)) {
            StepHarness.process(harness, List.of(payment("p3", T + 10, n)));
            harness.processWatermark(T + 20);
            List<Enriched> out = StepHarness.process(harness, List.of());
            return out.get(0).features[at];
        }
    }

    static String spec() throws Exception {
        return Files.readString(PackForDecisionContractTest.contract("feature-spec.json"));
    }

    @ParameterizedTest
    @CsvSource({"card, card_confirmed_fraud, 1.0", "merchant, merchant_fraud_rate_24h, 0.333333",
            "merchant, terminal_fraud_rate_7d, 0.333333"})
    void a_payment_sees_a_label_reported_before_it_also_after_a_restore(
            String step, String feature, double after) throws Exception {
        String spec = spec();
        int at = FeatureSpec.parse(spec).names.indexOf(feature);
        var backend = StepHarness.Backend.ROCKSDB;
        OperatorSubtaskState saved = labelled(step, spec, backend, at);
        assertEquals(after, afterRestore(step, spec, backend, saved, at), 1e-9);
    }

    @ParameterizedTest
    @CsvSource({"device"})
    void the_last_step_lets_no_label_through(String step) throws Exception {
        String spec = spec();
        try (var harness = StepHarness.open(step, spec, StepHarness.Backend.HEAP, null, true)) {
            StepHarness.process(harness, List.of(label(T)));
            harness.processWatermark(T + 5);
            assertTrue(StepHarness.process(harness, List.of()).isEmpty());
        }
    }
}
