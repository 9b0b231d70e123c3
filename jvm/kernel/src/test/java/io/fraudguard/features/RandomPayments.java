package io.fraudguard.features;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;

/**
 * Payments of a few cards, merchants, terminals and devices: bursts of simultaneous payments,
 * seconds apart, window lengths apart, and long gaps; several currencies; some payments without
 * a device.
 */
final class RandomPayments {
    static final long HOUR = 3_600_000L;
    static final long DAY = 86_400_000L;
    static final long T0 = 1_790_000_000_000L;
    // 10 minutes and an hour put events exactly on a window's edge
    private static final long[] STEPS =
            {0, 0, 1, 500, 20_000, 90_000, 600_000, HOUR, 2 * HOUR, 9 * HOUR, 2 * DAY};
    private static final String[] CURRENCIES = {"EUR", "EUR", "GBP", "JPY", "USD"};

    private RandomPayments() {}

    /** The registry as Python writes it (the golden file of the contract). */
    static FeatureSpec spec() throws IOException {
        return FeatureSpec.read(Path.of(System.getProperty("fraudguard.contracts"), "feature-spec.json"));
    }

    static List<Txn> of(FeatureSpec spec, long seed, int n, int merchants, int devices) {
        Random rng = new Random(seed);
        long ts = T0;
        List<Txn> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            ts += STEPS[rng.nextInt(STEPS.length)];
            String merchant = "m" + rng.nextInt(merchants);
            String device = rng.nextBoolean() ? null : "d" + rng.nextInt(devices);
            double amount = Math.round(100 + rng.nextDouble() * 89_900) / 100.0;
            String currency = CURRENCIES[rng.nextInt(CURRENCIES.length)];
            out.add(new Txn(String.format("t%05d", i), ts, "c" + rng.nextInt(6), merchant,
                    merchant + "-t" + rng.nextInt(2), spec.toEur(amount, currency),
                    rng.nextInt(3) == 0 ? "DE" : "FR", rng.nextBoolean() ? "online" : "card_present",
                    device));
        }
        return out;
    }

    /** Sorted by time, then id: the offline path's processing order. */
    static List<Txn> inProcessingOrder(List<Txn> txns) {
        List<Txn> sorted = new ArrayList<>(txns);
        sorted.sort(Comparator.comparingLong(Txn::tsMs).thenComparing(Txn::txnId));
        return sorted;
    }

    /** Each transaction's features from the offline loop, null for a retried id. */
    static List<double[]> features(FeatureSpec spec, List<Txn> txns) throws Exception {
        BuildFeatures.Offline offline = new BuildFeatures.Offline(new FeatureKernel(spec), DAY);
        List<double[]> out = new ArrayList<>(txns.size());
        for (Txn txn : txns) {
            out.add(offline.next(txn));
        }
        return out;
    }
}
