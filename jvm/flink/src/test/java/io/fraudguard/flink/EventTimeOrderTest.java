package io.fraudguard.flink;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fraudguard.features.BuildFeatures;
import io.fraudguard.features.FeatureKernel;
import io.fraudguard.features.FeatureSpec;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The feature steps in event-time order: payments sent out of order within the allowed
 * disorder come out with the features of the payments taken in processing order, none late;
 * one behind the watermark is applied at once and marked late.
 */
class EventTimeOrderTest {
    private static final long DISORDER_MS = 12 * 3_600_000L; // the payments are hours apart
    private static String spec;
    private static int size;
    private static List<Enriched> sorted;

    @BeforeAll
    static void load() throws Exception {
        spec = Files.readString(PackForDecisionContractTest.contract("feature-spec.json"));
        size = new FeatureKernel(FeatureSpec.parse(spec)).spec.size();
        sorted = new ArrayList<>(StepHarness.payments());
        sorted.sort(EventTimeOrder.PROCESSING_ORDER); // stable: a retry stays after its first
    }

    /** What {@code step} receives for the payments in processing order (fresh copies). */
    private static List<Enriched> inputs(String step) throws Exception {
        var kernel = new BuildFeatures.Offline(new FeatureKernel(FeatureSpec.parse(spec)),
                StepHarness.DEDUPE_TTL_MS);
        return StepHarness.inputs(step, kernel, size, sorted, 0, sorted.size());
    }

    /** {@code records} each sent up to {@code DISORDER_MS} late, with the source's watermark. */
    private static List<Enriched> feedOutOfOrder(
            KeyedOneInputStreamOperatorTestHarness<String, Enriched, Enriched> harness,
            List<Enriched> records, long seed) throws Exception {
        Random random = new Random(seed);
        List<long[]> sends = new ArrayList<>();
        for (int i = 0; i < records.size(); i++) {
            long delay = (long) (random.nextDouble() * DISORDER_MS);
            sends.add(new long[] {records.get(i).tsMs + delay, i});
        }
        sends.sort(Comparator.comparingLong((long[] s) -> s[0]).thenComparingLong(s -> s[1]));
        int inverted = 0;
        long newest = Long.MIN_VALUE;
        for (long[] send : sends) {
            Enriched e = records.get((int) send[1]);
            if (e.tsMs < newest) {
                inverted++;
            }
            harness.processElement(new StreamRecord<>(e, e.tsMs));
            if (e.tsMs > newest) {
                newest = e.tsMs;
                harness.processWatermark(newest - DISORDER_MS - 1);
            }
        }
        assertTrue(inverted > records.size() / 10, "only " + inverted + " sent out of order");
        harness.processWatermark(Long.MAX_VALUE);
        List<Enriched> out = new ArrayList<>(harness.extractOutputValues());
        harness.getOutput().clear();
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"card", "merchant", "device"})
    void outOfOrderWithinTheBoundGivesTheFeaturesOfProcessingOrder(String step) throws Exception {
        List<Enriched> expected;
        try (var harness = StepHarness.open(step, spec, StepHarness.Backend.HEAP, null, false)) {
            expected = StepHarness.process(harness, inputs(step));
        }
        List<Enriched> got;
        try (var harness = StepHarness.open(step, spec, StepHarness.Backend.HEAP, null, true)) {
            got = feedOutOfOrder(harness, inputs(step), 42);
        }
        List<Enriched> devicesAtOnce = new ArrayList<>();
        if (step.equals("device")) { // no device, no state: such payments pass at once
            got.removeIf(e -> e.deviceId == null && devicesAtOnce.add(e));
            expected.removeIf(e -> e.deviceId == null);
        }
        assertEquals(expected.size(), got.size());
        Map<String, List<Enriched>> byId = new HashMap<>(); // a retry shares its id
        for (Enriched e : got) {
            byId.computeIfAbsent(e.txnId, id -> new ArrayList<>()).add(e);
        }
        long previous = Long.MIN_VALUE;
        for (Enriched want : expected) {
            Enriched e = byId.get(want.txnId).remove(0);
            assertArrayEquals(want.features, e.features, e.txnId);
            assertFalse(e.late, e.txnId + " late");
        }
        for (Enriched e : got) {
            assertTrue(e.tsMs >= previous, "out in event-time order: " + e.txnId);
            previous = e.tsMs;
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"card", "merchant", "device"})
    void aPaymentBehindTheWatermarkIsAppliedAtOnceAndMarkedLate(String step) throws Exception {
        List<Enriched> records = inputs(step);
        records.removeIf(e -> e.deviceId == null);
        Enriched behind = records.remove(records.size() - 1);
        try (var harness = StepHarness.open(step, spec, StepHarness.Backend.HEAP, null, true)) {
            harness.processWatermark(behind.tsMs);
            harness.processElement(new StreamRecord<>(behind, behind.tsMs));
            List<Enriched> out = harness.extractOutputValues();
            assertEquals(1, out.size(), "applied at once");
            assertTrue(out.get(0).late);
            Enriched waiting = records.get(0);
            waiting.tsMs = behind.tsMs + 1;
            harness.processElement(new StreamRecord<>(waiting, waiting.tsMs));
            assertEquals(1, harness.extractOutputValues().size(), "ahead: waits");
            harness.processWatermark(waiting.tsMs);
            assertEquals(2, harness.extractOutputValues().size(), "released by the watermark");
        }
    }
}
