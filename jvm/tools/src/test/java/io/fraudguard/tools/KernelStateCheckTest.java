package io.fraudguard.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KernelStateCheckTest {
    @Test
    void statesThroughCheckpointsAndCopiesReportNoDifference(@TempDir Path dir) throws Exception {
        String spec = Path.of(System.getProperty("fraudguard.contracts"), "feature-spec.json").toString();
        JsonNode got = PrintedJson.of(KernelStateCheck::main,
                spec, Payments.file(dir, 2000).toString(), "86400000");
        assertEquals(2000, got.get("answered").asInt());
        assertTrue(got.get("round_trips").asInt() + got.get("copies").asInt() >= 3 * 2000);
        assertEquals(0, got.get("mismatches").asInt(), got.toString());
        assertEquals(0, got.get("unstable").asInt(), got.toString());
        assertEquals(0, got.get("changed_after_copy").asInt(), got.toString());
    }
}
