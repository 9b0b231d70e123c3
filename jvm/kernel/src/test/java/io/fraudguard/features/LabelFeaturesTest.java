package io.fraudguard.features;

import static io.fraudguard.features.RandomPayments.DAY;
import static io.fraudguard.features.RandomPayments.HOUR;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** The label-fed features through the offline loop, against {@link NaiveFeatures}. */
class LabelFeaturesTest {
    private static final long[] DELAYS = {0, 1, 60_000, HOUR, 20 * HOUR, 3 * DAY, 8 * DAY, 29 * DAY};
    private static FeatureSpec spec;

    @BeforeAll
    static void readSpec() throws Exception {
        spec = RandomPayments.spec();
    }

    /** Fraud labels of a third of the payments, some twice, reported after them by a delay. */
    static List<FraudLabel> labelsOf(List<Txn> txns, long seed) {
        Random rng = new Random(seed);
        List<FraudLabel> labels = new ArrayList<>();
        for (Txn t : txns) {
            int n = rng.nextInt(6) == 0 ? 2 : rng.nextInt(3) == 0 ? 1 : 0;
            for (int k = 0; k < n; k++) {
                long reported = t.tsMs() + DELAYS[rng.nextInt(DELAYS.length)];
                labels.add(new FraudLabel(
                        t.txnId(), reported, t.cardId(), t.merchantId(), t.terminalId()));
            }
        }
        labels.sort(BuildFeatures.LABEL_ORDER);
        return labels;
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4})
    void match_the_definition_with_labels_before_between_and_after_the_payments(long seed)
            throws Exception {
        List<Txn> txns = RandomPayments.inProcessingOrder(RandomPayments.of(spec, seed, 700, 3, 3));
        List<FraudLabel> labels = labelsOf(txns, seed);
        BuildFeatures.Offline offline = new BuildFeatures.Offline(new FeatureKernel(spec), DAY);
        NaiveFeatures naive = new NaiveFeatures(spec);
        int label = 0, nonZero = 0;
        for (Txn txn : txns) {
            for (; label < labels.size() && labels.get(label).reportedMs() < txn.tsMs(); label++) {
                offline.label(labels.get(label));
                naive.label(labels.get(label));
            }
            double[] want = naive.next(txn);
            double[] got = offline.next(txn);
            for (int f = 0; f < want.length; f++) {
                FeatureSpec.Declaration d = spec.features.get(f);
                if (d.type().equals("label")) {
                    assertEquals(want[f], got[f], 0.0, () -> d.name() + " of " + txn);
                    nonZero += got[f] != 0.0 ? 1 : 0;
                }
            }
        }
        assertTrue(nonZero > 100, "labels fed the features " + nonZero + " times");
    }

    @Test
    void a_label_counts_once_and_only_after_its_report() {
        FeatureKernel kernel = new FeatureKernel(spec);
        LabelWindows merchant = kernel.newLabelState("merchant");
        long t = RandomPayments.T0;
        assertTrue(kernel.fraudLabel(merchant, "t1", t));
        assertFalse(kernel.fraudLabel(merchant, "t1", t + HOUR));
        double[] out = new double[spec.size()];
        kernel.labelFeatures("merchant", merchant, t, out); // reported at the payment's own time
        int rate24h = spec.names.indexOf("merchant_fraud_rate_24h");
        assertEquals(0.0, out[rate24h]);
        kernel.labelFeatures("merchant", merchant, t + 1, out);
        assertEquals(0.5, out[rate24h]); // one label, two payments in the window
        kernel.labelFeatures("merchant", merchant, t + 2 * DAY, out);
        assertEquals(0.0, out[rate24h]);
        assertEquals(1.0 / 3, out[spec.names.indexOf("merchant_fraud_rate_7d")], 1e-6);
        LabelWindows card = kernel.newLabelState("card");
        kernel.fraudLabel(card, "t1", t);
        kernel.labelFeatures("card", card, t + 400 * DAY, out);
        assertEquals(1.0, out[spec.names.indexOf("card_confirmed_fraud")]); // ever
        kernel.labelFeatures("card", null, t, out);
        assertEquals(0.0, out[spec.names.indexOf("card_confirmed_fraud")]);
    }

    @Test
    void a_packed_state_reads_back_the_same() {
        FeatureKernel kernel = new FeatureKernel(spec);
        LabelWindows w = kernel.newLabelState("terminal");
        long t = RandomPayments.T0;
        for (int i = 0; i < 50; i++) {
            w.addPayment(t + i * 7 * HOUR);
            if (i % 7 == 0) {
                w.addLabel("t" + i, t + i * 7 * HOUR + 5);
            }
        }
        Packer p = new Packer();
        w.pack(p);
        LabelWindows back = LabelWindows.unpack(new Unpacker(p.bytes(), p.length()));
        Packer again = new Packer();
        back.pack(again);
        assertArrayEquals(java.util.Arrays.copyOf(p.bytes(), p.length()),
                java.util.Arrays.copyOf(again.bytes(), again.length()));
        long now = t + 50 * 7 * HOUR;
        assertEquals(w.fraudLabels(now, 30 * DAY), back.fraudLabels(now, 30 * DAY));
        assertEquals(w.payments(now, 7 * DAY), back.payments(now, 7 * DAY));
        assertEquals(w.fraudLabels(now, 30 * DAY), w.copy().fraudLabels(now, 30 * DAY));
    }
}
