package io.fraudguard.tools;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;

/**
 * The fields of one transactions line that {@link BacktestRows} reads, by Jackson's streaming
 * parser (no tree), and its event time as the job's validation reads it.
 */
final class BacktestLine {
    final String[] text = new String[BacktestRows.STRINGS.length];
    String deviceId;
    double amount = Double.NaN;

    /**
     * The next transaction of a stream of JSON objects (one a line), or null at its end; the
     * parser reads the whole file, so no line is copied into a string of its own.
     */
    static BacktestLine next(JsonParser p) throws IOException {
        JsonToken start = p.nextToken();
        if (start == null) {
            return null;
        }
        BacktestLine f = new BacktestLine();
        if (start != JsonToken.START_OBJECT) {
            throw new IOException("not a JSON object at line " + line(p));
        }
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            JsonToken value = p.nextToken();
            switch (name) {
                case "amount" -> f.amount = p.getDoubleValue();
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
        for (int s = 0; s < BacktestRows.STRINGS.length; s++) {
            if (f.text[s] == null) {
                throw new IOException("no " + BacktestRows.STRINGS[s] + " at line " + line(p));
            }
        }
        if (Double.isNaN(f.amount)) {
            throw new IOException("no amount at line " + line(p));
        }
        return f;
    }

    /** The line the parser has reached, counted from 1 as an editor does. */
    private static int line(JsonParser p) {
        return p.currentLocation().getLineNr();
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
