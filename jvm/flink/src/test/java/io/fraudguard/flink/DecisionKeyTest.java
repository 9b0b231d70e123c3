package io.fraudguard.flink;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** A decision record's Kafka key is its txn_id. */
class DecisionKeyTest {
    private static byte[] key(String record) {
        return new DecisionKey().serialize(record.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void theKeyIsTheTxnIdWhereverItStands() {
        assertArrayEquals("t1".getBytes(StandardCharsets.UTF_8), key("{\"txn_id\": \"t1\", \"x\": 1}"));
        assertArrayEquals("té".getBytes(StandardCharsets.UTF_8),
                key("{\"features\": {\"txn_id\": \"no\"}, \"list\": [1, 2], \"txn_id\": \"té\"}"));
    }

    @Test
    void aRecordWithoutAStringTxnIdHasNoKey() {
        assertNull(key("{\"decision\": \"approve\"}"));
        assertNull(key("{\"txn_id\": 7}"));
        assertNull(key("[\"txn_id\"]"));
    }

    @Test
    void aRecordThatIsNotJsonFails() {
        assertThrows(UncheckedIOException.class, () -> key("{\"txn_id\": "));
    }
}
