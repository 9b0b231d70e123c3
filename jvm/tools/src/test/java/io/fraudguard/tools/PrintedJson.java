package io.fraudguard.tools;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** The JSON line an entry point prints last, as the Python side reads it. */
final class PrintedJson {
    interface Main {
        void run(String[] args) throws Exception;
    }

    private PrintedJson() {}

    static JsonNode of(Main main, String... args) throws Exception {
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        PrintStream stdout = System.out;
        System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
        try {
            main.run(args);
        } finally {
            System.setOut(stdout);
        }
        String[] lines = printed.toString(StandardCharsets.UTF_8).strip().split("\n");
        return new ObjectMapper().readTree(lines[lines.length - 1]);
    }
}
