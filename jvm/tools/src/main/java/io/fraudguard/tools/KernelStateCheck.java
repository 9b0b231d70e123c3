package io.fraudguard.tools;

import io.fraudguard.features.BucketWindows;
import io.fraudguard.features.BuildFeatures;
import io.fraudguard.features.FeatureKernel;
import io.fraudguard.features.FeatureSpec;
import io.fraudguard.features.RawEvents;
import io.fraudguard.features.Txn;
import io.fraudguard.flink.KernelStateSerializer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;

/**
 * Checks the job's state serializers against the kernel (run by the tests): the offline path
 * runs twice over the same transactions in file order, once as is and once with every state
 * put, after each step, through what the heap backend does to it: a checkpoint's write and read
 * (every other time) or a copy-on-write copy. The features must be identical; a state read back
 * must write the same bytes again; a state that was copied must not change afterwards (the
 * checkpoint being written still holds it).
 *
 * <p>Usage: {@code KernelStateCheck SPEC.json TRANSACTIONS.jsonl DEDUPE_TTL_MS}. Prints one
 * JSON line.
 */
public final class KernelStateCheck implements BuildFeatures.StateHook {
    private static final int KEPT = 5_000;
    private final KernelStateSerializer.Card cards = new KernelStateSerializer.Card();
    private final KernelStateSerializer.Buckets buckets = new KernelStateSerializer.Buckets();
    private final KernelStateSerializer.Events events = new KernelStateSerializer.Events();
    private final List<Object[]> copied = new ArrayList<>(); // {serializer, original, its bytes}
    long calls;
    long roundTrips;
    long copies;
    long unstable;

    private <T> T through(TypeSerializer<T> serializer, T state) throws Exception {
        calls++;
        byte[] before = bytes(serializer, state);
        if (calls % 2 == 0) {
            roundTrips++;
            T read = serializer.deserialize(new DataInputDeserializer(before));
            if (!Arrays.equals(before, bytes(serializer, read))) {
                unstable++;
            }
            return read;
        }
        copies++;
        T copy = serializer.copy(state);
        if (copied.size() < KEPT) {
            copied.add(new Object[] {serializer, state, before});
        }
        return copy;
    }

    static <T> byte[] bytes(TypeSerializer<T> serializer, T state) throws Exception {
        DataOutputSerializer out = new DataOutputSerializer(256);
        serializer.serialize(state, out);
        return out.getCopyOfBuffer();
    }

    @SuppressWarnings("unchecked")
    long changedAfterCopy() throws Exception {
        long changed = 0;
        for (Object[] c : copied) {
            byte[] now = bytes((TypeSerializer<Object>) c[0], c[1]);
            if (!Arrays.equals(now, (byte[]) c[2])) {
                changed++;
            }
        }
        return changed;
    }

    @Override
    public FeatureKernel.CardState card(FeatureKernel.CardState state) throws Exception {
        return through(cards, state);
    }

    @Override
    public BucketWindows buckets(BucketWindows state) throws Exception {
        return through(buckets, state);
    }

    @Override
    public RawEvents events(RawEvents state) throws Exception {
        return through(events, state);
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: KernelStateCheck SPEC.json TRANSACTIONS.jsonl DEDUPE_TTL_MS");
            System.exit(2);
        }
        FeatureSpec spec = FeatureSpec.read(Path.of(args[0]));
        long dedupeTtlMs = Long.parseLong(args[2]);
        FeatureKernel kernel = new FeatureKernel(spec);
        KernelStateCheck check = new KernelStateCheck();
        BuildFeatures.Offline plain = new BuildFeatures.Offline(kernel, dedupeTtlMs);
        BuildFeatures.Offline checked = new BuildFeatures.Offline(kernel, dedupeTtlMs, check);
        long answered = 0, mismatches = 0;
        for (Txn txn : BuildFeatures.read(spec, Path.of(args[1]))) {
            double[] a = plain.next(txn);
            double[] b = checked.next(txn);
            answered += a == null ? 0 : 1;
            if (a == null ? b != null : !Arrays.equals(a, b)) {
                mismatches++;
            }
        }
        System.out.printf("{\"answered\": %d, \"mismatches\": %d, \"round_trips\": %d,"
                        + " \"copies\": %d, \"unstable\": %d, \"changed_after_copy\": %d}%n",
                answered, mismatches, check.roundTrips, check.copies, check.unstable,
                check.changedAfterCopy());
    }
}
