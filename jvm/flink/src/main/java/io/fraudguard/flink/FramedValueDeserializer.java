package io.fraudguard.flink;

import java.io.IOException;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.kafka.shaded.org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.flink.util.Collector;

/**
 * Hands every Kafka record to the job, tombstones included: the value behind one frame byte,
 * {@code 1} followed by the value, or {@code 0} alone for a record without a value.
 *
 * <p>Flink's value-only deserializers drop a record whose value is null without a trace, so a
 * tombstone on the transactions topic would get neither a decision nor a dead-letter record.
 * With the frame the Python validation sees it and sends it to the dead-letter topic. The
 * class is compiled against the shaded Kafka classes of flink-sql-connector-kafka, the jar the
 * job runs with.
 */
public final class FramedValueDeserializer implements KafkaRecordDeserializationSchema<byte[]> {
    private static final long serialVersionUID = 1L;

    /** First byte of a record without a value. */
    public static final byte TOMBSTONE = 0;

    /** First byte of a record with a value, which follows. */
    public static final byte VALUE = 1;

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<byte[]> out)
            throws IOException {
        byte[] value = record.value();
        if (value == null) {
            out.collect(new byte[] {TOMBSTONE});
            return;
        }
        byte[] framed = new byte[value.length + 1];
        framed[0] = VALUE;
        System.arraycopy(value, 0, framed, 1, value.length);
        out.collect(framed);
    }

    @Override
    public TypeInformation<byte[]> getProducedType() {
        return PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO;
    }
}
