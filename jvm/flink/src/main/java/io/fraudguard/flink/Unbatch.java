package io.fraudguard.flink;

import java.nio.ByteBuffer;
import java.util.Arrays;
import org.apache.flink.api.common.functions.FlatMapFunction;
import org.apache.flink.util.Collector;

/** The other end of {@link MicroBatch}: one length-prefixed batch back into its records. */
public class Unbatch implements FlatMapFunction<byte[], byte[]> {
    private static final long serialVersionUID = 1L;

    @Override
    public void flatMap(byte[] batch, Collector<byte[]> out) {
        ByteBuffer in = ByteBuffer.wrap(batch);
        while (in.hasRemaining()) {
            int length = in.getInt();
            int start = in.position();
            out.collect(Arrays.copyOfRange(batch, start, start + length));
            in.position(start + length);
        }
    }
}
