package io.fraudguard.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KernelStateCheckTest {
    /** Validated transactions as JSON lines: every fifth late by an hour, every seventh retried. */
    private static Path transactions(Path dir, int n) throws Exception {
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            long ts = 1_790_000_000_000L + 60_000L * i - (i % 5 == 0 ? 3_600_000L : 0);
            String line = String.format("{\"txn_id\": \"t%d\", \"ts_ms\": %d, \"card_id\": \"c%d\","
                    + " \"merchant_id\": \"m%d\", \"terminal_id\": \"m%d-t%d\", \"amount\": %d.25,"
                    + " \"currency\": \"%s\", \"country\": \"%s\", \"channel\": \"online\","
                    + " \"device_id\": %s}", i, ts, i % 13, i % 4, i % 4, i % 2, 5 + i % 300,
                    i % 3 == 0 ? "GBP" : "EUR", i % 6 == 0 ? "DE" : "FR",
                    i % 4 == 0 ? "null" : "\"d" + i % 9 + "\"");
            lines.add(line);
            if (i % 7 == 0) {
                lines.add(line);
            }
        }
        return Files.write(dir.resolve("transactions.jsonl"), lines);
    }

    @Test
    void statesThroughCheckpointsAndCopiesReportNoDifference(@TempDir Path dir) throws Exception {
        String spec = Path.of(System.getProperty("fraudguard.contracts"), "feature-spec.json").toString();
        JsonNode got = PrintedJson.of(KernelStateCheck::main,
                spec, transactions(dir, 2000).toString(), "86400000");
        assertEquals(2000, got.get("answered").asInt());
        assertTrue(got.get("round_trips").asInt() + got.get("copies").asInt() >= 3 * 2000);
        assertEquals(0, got.get("mismatches").asInt(), got.toString());
        assertEquals(0, got.get("unstable").asInt(), got.toString());
        assertEquals(0, got.get("changed_after_copy").asInt(), got.toString());
    }
}
