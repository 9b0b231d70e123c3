package io.fraudguard.tools;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** Payments a minute apart as wire JSON lines with {@code ts_ms}, read by every entry point. */
final class Payments {
    private Payments() {}

    /** {@code n} payments in {@code dir}: every fifth late by an hour, every seventh retried. */
    static Path file(Path dir, int n) throws Exception {
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            long ts = 1_790_000_000_000L + 60_000L * i - (i % 5 == 0 ? 3_600_000L : 0);
            String line = String.format("{\"txn_id\": \"t%d\", \"ts_ms\": %d, \"event_time\": \"%s\","
                    + " \"card_id\": \"c%d\", \"customer_id\": \"u\", \"merchant_id\": \"m%d\","
                    + " \"terminal_id\": \"m%d-t%d\", \"amount\": %d.25, \"currency\": \"%s\","
                    + " \"mcc\": \"5411\", \"country\": \"%s\", \"channel\": \"online\","
                    + " \"device_id\": %s}", i, ts, Instant.ofEpochMilli(ts), i % 13, i % 4, i % 4,
                    i % 2, 5 + i % 300, i % 3 == 0 ? "GBP" : "EUR", i % 6 == 0 ? "DE" : "FR",
                    i % 4 == 0 ? "null" : "\"d" + i % 9 + "\"");
            lines.add(line);
            if (i % 7 == 0) {
                lines.add(line);
            }
        }
        return Files.write(dir.resolve("transactions.jsonl"), lines);
    }
}
