package io.fraudguard.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExactTextCheckTest {
    @Test
    void reportsNoMismatchAndWritesASampleLinePerCase(@TempDir Path dir) throws Exception {
        Path sample = dir.resolve("sample.txt");
        JsonNode got = PrintedJson.of(ExactTextCheck::main, "5", "3000", sample.toString());
        assertEquals(3000, got.get("cases").asInt());
        assertEquals(0, got.get("mismatches").asInt());
        assertEquals(0, got.get("json_mismatches").asInt());
        assertTrue(got.get("fast").asInt() > 1000, got.toString());
        List<String> lines = Files.readAllLines(sample);
        assertEquals(3000, lines.size());
        assertEquals("0 0.0", lines.get(0)); // bits in hex, then the JSON text
    }
}
