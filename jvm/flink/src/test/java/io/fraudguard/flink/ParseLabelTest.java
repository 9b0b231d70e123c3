package io.fraudguard.flink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The job's reader of labels on the cases Python's {@code fraud_label} is tested on. */
class ParseLabelTest {
    @Test
    void reads_every_case_of_the_contract_as_python_does() throws Exception {
        JsonNode cases = new ObjectMapper().readTree(
                Path.of(System.getProperty("fraudguard.contracts"), "label-cases.json").toFile());
        int n = 0;
        for (JsonNode c : cases.get("cases")) {
            byte[] record = c.get("record").asText().getBytes(StandardCharsets.UTF_8);
            ParseLabel.Outcome got = ParseLabel.read(record);
            String what = c.get("record").asText();
            if (c.has("feeds")) {
                JsonNode want = c.get("feeds");
                assertNotNull(got.label(), what);
                assertTrue(got.label().label, what);
                assertEquals(want.get("txn_id").asText(), got.label().txnId, what);
                assertEquals(want.get("reported_ms").asLong(), got.label().tsMs, what);
                assertEquals(want.get("card_id").asText(), got.label().cardId, what);
                assertEquals(want.get("merchant_id").asText(), got.label().merchantId, what);
                assertEquals(want.get("terminal_id").asText(), got.label().terminalId, what);
            } else {
                assertNull(got.label(), what);
                assertEquals(c.get("unused").asText(), got.unusedBecause(), what);
            }
            n++;
        }
        assertTrue(n >= 10);
    }
}
