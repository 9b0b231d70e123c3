package io.fraudguard.tools;

import io.fraudguard.flink.ExactText;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/**
 * Writes random doubles of every kind the features hold (counts, cents, six-place ratios, any
 * double, and the edges: signed zeros, NaN, infinities, subnormals, the ends of exact longs)
 * with {@link ExactText} and reads them back (run by the tests): {@code ExactTextCheck SEED
 * CASES [SAMPLE]}. Prints one JSON line with the cases, the mismatches of the plain and the
 * JSON text, and how many took the fast path. With {@code SAMPLE}, writes each case's bits (hex)
 * and JSON text to that file, one per line, for a JSON reader of another language to check.
 */
public final class ExactTextCheck {
    private ExactTextCheck() {}

    public static void main(String[] args) throws IOException {
        Random rng = new Random(Long.parseLong(args[0]));
        int cases = Integer.parseInt(args[1]);
        double[] edges = {0.0, -0.0, Double.NaN, Double.POSITIVE_INFINITY,
            Double.NEGATIVE_INFINITY, Double.MIN_VALUE, -Double.MIN_VALUE, Double.MAX_VALUE,
            9007199254740992.0, 9007199254740991.0, 9007199254740994.0, -9007199254740991.0,
            90071992547409.91, 9007199254.740991, 0.1 + 0.2, 1e-7, 0.5e-6, 1.0000005, 1e22};
        int mismatches = 0, jsonMismatches = 0, fast = 0;
        StringBuilder out = new StringBuilder();
        StringBuilder json = new StringBuilder();
        PrintWriter sample = args.length > 2
                ? new PrintWriter(Files.newBufferedWriter(Path.of(args[2]))) : null;
        for (int c = 0; c < cases; c++) {
            double v = switch (c < edges.length ? -1 : rng.nextInt(6)) {
                case -1 -> edges[c];
                case 0 -> rng.nextInt(100_000) - 50_000; // counts
                case 1 -> (rng.nextLong() % 10_000_000_000L) / 100.0; // amounts in cents
                case 2 -> Math.round(rng.nextGaussian() * 1e7) / 1e6; // rounded ratios
                case 3 -> rng.nextGaussian() * Math.pow(10, rng.nextInt(30) - 15); // anything
                case 4 -> Double.longBitsToDouble(rng.nextLong()); // any bits at all
                default -> (rng.nextInt(2_000_001) - 1_000_000) / 100.0 * 3; // sums of cents
            };
            out.setLength(0);
            String text = ExactText.append(out, v).toString();
            String slow = Double.toString(v);
            fast += ExactText.scale(v) >= 0 ? 1 : 0;
            double back = Double.parseDouble(text);
            boolean same = Double.isNaN(v)
                    ? Double.isNaN(back)
                    : Double.doubleToRawLongBits(back) == Double.doubleToRawLongBits(v);
            if (!same) {
                mismatches++;
                if (mismatches <= 5) {
                    System.err.println("mismatch: " + slow + " written " + text);
                }
            }
            json.setLength(0);
            String jsonText = ExactText.appendJson(json, v).toString();
            if (!sameAsJson(v, jsonText)) {
                jsonMismatches++;
                if (jsonMismatches <= 5) {
                    System.err.println("JSON mismatch: " + slow + " written " + jsonText);
                }
            }
            if (sample != null) {
                sample.println(Long.toHexString(Double.doubleToRawLongBits(v)) + " " + jsonText);
            }
        }
        if (sample != null) {
            sample.close();
        }
        System.out.println("{\"cases\": " + cases + ", \"mismatches\": " + mismatches
                + ", \"json_mismatches\": " + jsonMismatches + ", \"fast\": " + fast + "}");
    }

    /** Null for exactly the non-finite values; else a float literal (never an integer one). */
    private static boolean sameAsJson(double v, String text) {
        if (text.equals("null")) {
            return !Double.isFinite(v);
        }
        if (!Double.isFinite(v) || text.indexOf('.') < 0 && text.indexOf('E') < 0) {
            return false;
        }
        return Double.doubleToRawLongBits(Double.parseDouble(text))
                == Double.doubleToRawLongBits(v);
    }
}
