package io.fraudguard.tools;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;

/**
 * The fields of one transactions line that {@link BacktestRows} reads, by Jackson's streaming
 * parser (no tree), and its event time as the job's validation reads it.
 */
final class BacktestLine {
    final String[] text = new String[BacktestRows.STRINGS.length];
    String terminalId;
    String deviceId;
    double amount = Double.NaN;

    static BacktestLine parse(JsonFactory json, String line) throws IOException {
        BacktestLine f = new BacktestLine();
        try (JsonParser p = json.createParser(line)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new IOException("not a JSON object: " + line);
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.getCurrentName();
                JsonToken value = p.nextToken();
                switch (name) {
                    case "amount" -> f.amount = p.getDoubleValue();
                    case "terminal_id" -> f.terminalId = p.getText();
                    case "device_id" -> f.deviceId = value == JsonToken.VALUE_NULL ? null : p.getText();
                    default -> {
                        int at = column(name);
                        if (at >= 0) {
                            f.text[at] = p.getText();
                        } else {
                            p.skipChildren();
                        }
                    }
                }
            }
        }
        for (int s = 0; s < BacktestRows.STRINGS.length; s++) {
            if (f.text[s] == null) {
                throw new IOException("no " + BacktestRows.STRINGS[s] + " in: " + line);
            }
        }
        if (f.terminalId == null || Double.isNaN(f.amount)) {
            throw new IOException("no terminal_id or amount in: " + line);
        }
        return f;
    }

    private static int column(String name) {
        for (int s = 0; s < BacktestRows.STRINGS.length; s++) {
            if (BacktestRows.STRINGS[s].equals(name)) {
                return s;
            }
        }
        return -1;
    }

    /** Milliseconds as Python's {@code int(datetime.fromisoformat(v).timestamp() * 1000)}. */
    static long tsMs(String eventTime) {
        long micros;
        if (eventTime.length() == 24 && eventTime.charAt(10) == 'T' && eventTime.charAt(19) == '.'
                && eventTime.charAt(23) == 'Z') {
            // The generator's and the converter's form, read without the general parser.
            long day = java.time.LocalDate.of(digits(eventTime, 0, 4), digits(eventTime, 5, 2),
                    digits(eventTime, 8, 2)).toEpochDay();
            long seconds = day * 86_400L + digits(eventTime, 11, 2) * 3600L
                    + digits(eventTime, 14, 2) * 60L + digits(eventTime, 17, 2);
            micros = seconds * 1_000_000L + digits(eventTime, 20, 3) * 1000L;
        } else {
            java.time.Instant i = java.time.OffsetDateTime.parse(eventTime).toInstant();
            micros = Math.addExact(Math.multiplyExact(i.getEpochSecond(), 1_000_000L),
                    i.getNano() / 1000);
        }
        // Python divides whole microseconds by 1e6 (correctly rounded), multiplies, truncates.
        return (long) ((double) micros / 1e6 * 1000.0);
    }

    private static int digits(String text, int at, int count) {
        int value = 0;
        for (int i = at; i < at + count; i++) {
            char c = text.charAt(i);
            if (c < '0' || c > '9') {
                throw new java.time.format.DateTimeParseException("not ISO-8601", text, i);
            }
            value = value * 10 + (c - '0');
        }
        return value;
    }
}
