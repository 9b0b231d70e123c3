package io.fraudguard.flink;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.functions.util.ListCollector;
import org.apache.flink.kafka.shaded.org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/** Every Kafka record reaches the job framed, a tombstone as one byte. */
class FramedValueDeserializerTest {
    private static byte[] framed(byte[] value) throws Exception {
        List<byte[]> out = new ArrayList<>();
        new FramedValueDeserializer().deserialize(
                new ConsumerRecord<>("transactions", 0, 0L, null, value), new ListCollector<>(out));
        assertEquals(1, out.size());
        return out.get(0);
    }

    @Test
    void aValueFollowsItsFrameByte() throws Exception {
        assertArrayEquals(new byte[] {1, '{', '}'}, framed(new byte[] {'{', '}'}));
        assertArrayEquals(new byte[] {1}, framed(new byte[0]));
    }

    @Test
    void aTombstoneIsItsFrameByteAlone() throws Exception {
        assertArrayEquals(new byte[] {0}, framed(null));
    }
}
