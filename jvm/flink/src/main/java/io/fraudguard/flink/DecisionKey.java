package io.fraudguard.flink;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import org.apache.flink.api.common.serialization.SerializationSchema;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

/**
 * The Kafka key of a decision record: its {@code txn_id}, so every decision of a transaction
 * lands on the partition its id hashes to and a compacted copy of the topic keeps one decision
 * per transaction.
 *
 * <p>Reads the record's top-level fields only until {@code txn_id}, which the job writes first,
 * so the cost does not grow with the feature values behind it. A record without one (the job
 * never writes such a record) gets no key rather than failing the sink.
 */
public final class DecisionKey implements SerializationSchema<byte[]> {
    private static final long serialVersionUID = 1L;
    private static final JsonFactory JSON = new JsonFactory();

    @Override
    public byte[] serialize(byte[] record) {
        try (JsonParser parser = JSON.createParser(record)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                return null;
            }
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String name = parser.getCurrentName();
                JsonToken value = parser.nextToken();
                if ("txn_id".equals(name)) {
                    return value == JsonToken.VALUE_STRING
                            ? parser.getText().getBytes(StandardCharsets.UTF_8)
                            : null;
                }
                parser.skipChildren();
            }
            return null;
        } catch (IOException e) {
            throw new UncheckedIOException("decision record is not JSON", e);
        }
    }
}
