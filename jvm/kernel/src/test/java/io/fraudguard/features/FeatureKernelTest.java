package io.fraudguard.features;

import static io.fraudguard.features.RandomPayments.DAY;
import static io.fraudguard.features.RandomPayments.HOUR;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The kernel, through the offline loop, against the brute-force definition ({@link NaiveFeatures}). */
class FeatureKernelTest {
    private static FeatureSpec spec;

    @BeforeAll
    static void readSpec() throws Exception {
        spec = RandomPayments.spec();
    }

    /**
     * Compares the features of each payment whose entity has seen nothing later: a late payment's
     * merchant and terminal windows are the buckets' approximation, not the definition.
     */
    private static int assertMatchesDefinition(List<Txn> txns) throws Exception {
        List<double[]> got = RandomPayments.features(spec, txns);
        NaiveFeatures naive = new NaiveFeatures(spec);
        Map<String, Long> newest = new HashMap<>();
        int compared = 0;
        for (int i = 0; i < txns.size(); i++) {
            Txn txn = txns.get(i);
            double[] want = naive.next(txn);
            for (int f = 0; f < want.length; f++) {
                FeatureSpec.Declaration d = spec.features.get(f);
                String entity = d.entity().equals("txn") ? "card" : d.entity();
                String key = NaiveFeatures.key(entity, txn);
                if (key != null && txn.tsMs() < newest.getOrDefault(entity + ":" + key, Long.MIN_VALUE)) {
                    continue;
                }
                // The kernel rounds z-scores and ratios to six places; the definition does not.
                double tolerance = d.type().equals("history") ? 1e-6 : 0.0;
                assertEquals(want[f], got.get(i)[f], tolerance, () -> d.name() + " of " + txn);
                compared++;
            }
            for (String entity : List.of("card", "merchant", "terminal", "device")) {
                String key = NaiveFeatures.key(entity, txn);
                if (key != null) {
                    newest.merge(entity + ":" + key, txn.tsMs(), Math::max);
                }
            }
        }
        return compared;
    }

    @ParameterizedTest
    // few values, then hundreds: a card's merchants and a device's cards outnumber its live
    // events, so the kernel's dictionaries drop the values no event holds any more
    @CsvSource({"0, 4, 5", "1, 4, 5", "2, 4, 5", "3, 400, 300", "4, 2000, 2"})
    void everyFeatureMatchesTheDefinition(long seed, int merchants, int devices) throws Exception {
        List<Txn> txns = RandomPayments.inProcessingOrder(
                RandomPayments.of(spec, seed, merchants > 4 ? 3000 : 1500, merchants, devices));
        assertEquals(txns.size() * spec.size(), assertMatchesDefinition(txns));
    }

    @ParameterizedTest
    @ValueSource(longs = {0, 1, 2})
    void aPaymentLaterThanAWindowLeavesTheWindowsExact(long seed) throws Exception {
        Random rng = new Random(seed);
        long[] lateBy = {2 * HOUR, 30 * HOUR, 8 * DAY}; // outside the hour, sometimes the day and week
        List<Txn> arrivals = new ArrayList<>();
        List<Txn> onTime = RandomPayments.of(spec, seed, 1500, 4, 5);
        for (int i = 0; i < onTime.size(); i++) {
            Txn t = onTime.get(i);
            arrivals.add(t);
            if (i % 37 == 36) {
                arrivals.add(new Txn("late" + i, t.tsMs() - lateBy[rng.nextInt(3)], t.cardId(),
                        t.merchantId(), t.terminalId(), t.amountEur(), t.country(), t.channel(),
                        t.deviceId()));
            }
        }
        assertTrue(assertMatchesDefinition(arrivals) >= onTime.size() * spec.size());
    }

    @ParameterizedTest
    @ValueSource(longs = {0, 1})
    void simultaneousPaymentsSeeTheSameValuesInAnyOrder(long seed) throws Exception {
        List<Txn> txns = RandomPayments.of(spec, seed, 1500, 4, 5);
        Random rng = new Random(seed);
        Map<Txn, Double> tieBreak = new HashMap<>();
        txns.forEach(t -> tieBreak.put(t, rng.nextDouble()));
        List<Txn> shuffled = new ArrayList<>(txns);
        shuffled.sort((a, b) -> a.tsMs() != b.tsMs()
                ? Long.compare(a.tsMs(), b.tsMs()) : Double.compare(tieBreak.get(a), tieBreak.get(b)));
        assertNotEquals(txns, shuffled, "bursts were reordered");
        Map<String, double[]> inOrder = byId(txns);
        Map<String, double[]> reordered = byId(shuffled);
        for (Txn t : txns) {
            assertArrayEquals(inOrder.get(t.txnId()), reordered.get(t.txnId()), t.txnId());
        }
    }

    private static Map<String, double[]> byId(List<Txn> txns) throws Exception {
        List<double[]> features = RandomPayments.features(spec, txns);
        Map<String, double[]> out = new HashMap<>();
        for (int i = 0; i < txns.size(); i++) {
            out.put(txns.get(i).txnId(), features.get(i));
        }
        return out;
    }

    @Test
    void aRetriedIdIsAnsweredOnceWithinTheTtl() throws Exception {
        Txn first = RandomPayments.of(spec, 0, 1, 4, 5).get(0);
        List<double[]> answers = RandomPayments.features(spec, List.of(
                first, retry(first, first.tsMs() + 1), retry(first, first.tsMs() + DAY + 1)));
        assertNotNull(answers.get(0));
        assertNull(answers.get(1), "a retry a millisecond later is dropped");
        assertNotNull(answers.get(2), "beyond the TTL it is answered again");
    }

    private static Txn retry(Txn t, long tsMs) {
        return new Txn(t.txnId(), tsMs, t.cardId(), t.merchantId(), t.terminalId(), t.amountEur(),
                t.country(), t.channel(), t.deviceId());
    }
}
