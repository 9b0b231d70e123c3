package io.fraudguard.tools;

import io.fraudguard.features.BucketWindows;
import io.fraudguard.features.FeatureKernel;
import io.fraudguard.features.FeatureSpec;
import io.fraudguard.features.Txn;
import io.fraudguard.flink.KernelStateSerializer;
import java.nio.file.Path;
import java.util.HashMap;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.core.memory.DataOutputSerializer;

/**
 * Keyed state per key, measured (run by {@code bench/state_memory.py}): a card with 30 days of
 * history, and a merchant with 100,000 transactions a day. Sizes are what a checkpoint holds
 * (with the job's own serializers, {@link KernelStateSerializer}) and, for the card, what the
 * heap holds (the heap state backend keeps the objects). Prints one JSON object.
 *
 * <p>Usage: {@code StateMemory SPEC.json}
 */
public final class StateMemory {
    private static final long DAY = 86_400_000L;

    private StateMemory() {}

    static <T> int checkpointBytes(TypeSerializer<T> serializer, T value) throws Exception {
        DataOutputSerializer out = new DataOutputSerializer(1 << 16);
        serializer.serialize(value, out);
        return out.length();
    }

    static Txn txn(int i, long ts, String card, String merchant, double amount) {
        return new Txn(String.format("t%010d", i), ts, card, merchant, merchant + "-t" + (i % 8),
                amount, "FR", "online", "d" + card);
    }

    static FeatureKernel.CardState card(FeatureKernel kernel, int perDay, String id) {
        FeatureKernel.CardState state = kernel.newCardState(DAY);
        double[] out = new double[kernel.spec.size()];
        int n = perDay * 30;
        for (int i = 0; i < n; i++) {
            kernel.card(state, txn(i, i * (30 * DAY / n), id, "m" + (i % 40), 10.0 + i % 90), out,
                    new long[2]);
        }
        return state;
    }

    static long heapPerCard(FeatureKernel kernel, int perDay) {
        int keys = 2_000;
        Object[] held = new Object[keys];
        Runtime rt = Runtime.getRuntime();
        System.gc();
        long before = rt.totalMemory() - rt.freeMemory();
        for (int k = 0; k < keys; k++) {
            held[k] = card(kernel, perDay, "c" + k);
        }
        System.gc();
        long after = rt.totalMemory() - rt.freeMemory();
        if (held.length != keys) {
            throw new IllegalStateException();
        }
        return (after - before) / keys;
    }

    public static void main(String[] args) throws Exception {
        FeatureKernel kernel = new FeatureKernel(FeatureSpec.read(Path.of(args[0])));
        KernelStateSerializer.Card cards = new KernelStateSerializer.Card();
        int card2 = checkpointBytes(cards, card(kernel, 2, "c1"));
        int card20 = checkpointBytes(cards, card(kernel, 20, "c1"));
        long heap2 = heapPerCard(kernel, 2);
        long heap20 = heapPerCard(kernel, 20);

        // A merchant with 100,000 payments a day for 8 days; about half from cards seen before
        // (in the job, each card's own history says when it was last seen here).
        int perDay = 100_000, days = 8, n = perDay * days;
        HashMap<String, Long> seen = new HashMap<>();
        BucketWindows merchant = kernel.newMerchantState();
        double[] out = new double[kernel.spec.size()];
        for (int i = 0; i < n; i++) {
            String card = "c" + (i % (perDay * 3));
            long ts = i * (days * DAY / n);
            Long previous = seen.put(card, ts);
            kernel.merchant(merchant, txn(i, ts, card, "m1", 42.5),
                    previous == null ? FeatureKernel.NEVER : previous, out);
        }
        int merchantBytes = checkpointBytes(new KernelStateSerializer.Buckets(), merchant);
        System.out.printf(
                "{\"card_30d_2_per_day_bytes\": %d, \"card_30d_20_per_day_bytes\": %d,"
                        + " \"card_30d_2_per_day_heap_bytes\": %d, \"card_30d_20_per_day_heap_bytes\": %d,"
                        + " \"merchant_value_state_bytes\": %d, \"buckets_per_window\": %s}%n",
                card2, card20, heap2, heap20, merchantBytes, bucketCounts(merchant));
    }

    private static String bucketCounts(BucketWindows merchant) {
        StringBuilder out = new StringBuilder("[");
        for (int w = 0; w < merchant.series().length; w++) {
            out.append(w == 0 ? "" : ", ").append(merchant.series()[w].size());
        }
        return out.append("]").toString();
    }
}
