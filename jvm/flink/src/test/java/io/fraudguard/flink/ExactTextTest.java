package io.fraudguard.flink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Feature values written as the shortest text that reads back as the same double. */
class ExactTextTest {
    private static String text(double v) {
        return ExactText.append(new StringBuilder(), v).toString();
    }

    private static String json(double v) {
        return ExactText.appendJson(new StringBuilder(), v).toString();
    }

    @ParameterizedTest
    // counts, cents and six-place ratios come from a long; anything else from Double.toString
    @CsvSource({"3.0, 3, 3.0", "-2.5, -2.50, -2.50", "1234.56, 1234.56, 1234.56",
        "0.123457, 0.123457, 0.123457", "0.000001, 0.000001, 0.000001", "-0.0, -0.0, -0.0",
        "1e22, 1.0E22, 1.0E22", "0.3333333333333333, 0.3333333333333333, 0.3333333333333333"})
    void writesEachKindOfValue(double v, String plain, String asJson) {
        assertEquals(plain, text(v));
        assertEquals(asJson, json(v));
    }

    @Test
    void jsonHasNoNumberForNanOrTheInfinities() {
        assertEquals("null", json(Double.NaN));
        assertEquals("null", json(Double.POSITIVE_INFINITY));
        assertEquals("null", json(Double.NEGATIVE_INFINITY));
    }

    @Test
    void anyDoubleReadsBackBitForBit() {
        Random rng = new Random(11);
        for (int i = 0; i < 200_000; i++) {
            double v = i % 2 == 0
                    ? Math.round(rng.nextGaussian() * 1e9) / (i % 4 == 0 ? 100.0 : 1e6)
                    : Double.longBitsToDouble(rng.nextLong());
            if (!Double.isFinite(v)) {
                continue;
            }
            long bits = Double.doubleToRawLongBits(v);
            assertEquals(bits, Double.doubleToRawLongBits(Double.parseDouble(text(v))), text(v));
            String j = json(v);
            assertTrue(j.contains(".") || j.contains("E"), "a JSON float, not an int: " + j);
            assertEquals(bits, Double.doubleToRawLongBits(Double.parseDouble(j)), j);
        }
    }
}
