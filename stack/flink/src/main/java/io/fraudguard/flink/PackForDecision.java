package io.fraudguard.flink;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.apache.flink.api.common.functions.MapFunction;

/**
 * A transaction with its features, for the Python decision: int32 n, n float64 features
 * (registry order), one byte late (0 or 1), then the validated transaction's JSON; all
 * little-endian (see {@code fraudguard.flink.batches.unpack_features}).
 */
public class PackForDecision implements MapFunction<Enriched, byte[]> {
    private static final long serialVersionUID = 1L;

    @Override
    public byte[] map(Enriched e) {
        ByteBuffer packed = ByteBuffer.allocate(4 + 8 * e.features.length + 1 + e.json.length)
                .order(ByteOrder.LITTLE_ENDIAN);
        packed.putInt(e.features.length);
        for (double f : e.features) {
            packed.putDouble(f);
        }
        packed.put((byte) (e.late ? 1 : 0));
        packed.put(e.json);
        return packed.array();
    }
}
