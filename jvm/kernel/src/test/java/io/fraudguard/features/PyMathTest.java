package io.fraudguard.features;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Rounding as Python's {@code round} does it. */
class PyMathTest {
    @ParameterizedTest
    // Python: round(2.675, 2) == 2.67 (2.675 is a little below in binary), ties go to even.
    @CsvSource({"2.675, 2, 2.67", "0.125, 2, 0.12", "0.375, 2, 0.38", "2.5, 0, 2.0",
        "3.5, 0, 4.0", "-2.5, 0, -2.0", "1.0000005, 6, 1.000001", "1234.5678949999, 6, 1234.567895",
        "-1e-9, 6, -0.0"})
    void roundsAsPython(double x, int digits, double python) {
        assertEquals(python, PyMath.round(x, digits));
    }

    /** The fast path gives what the exact one gives, near ties too. */
    @Test
    void theFastPathIsExact() {
        Random rng = new Random(3);
        for (int i = 0; i < 200_000; i++) {
            double x = switch (i % 3) {
                case 0 -> rng.nextGaussian() * Math.pow(10, rng.nextInt(12) - 4);
                case 1 -> (rng.nextInt(2_000_000) - 1_000_000 + 0.5) / 1e6; // ties at six places
                default -> Math.round(rng.nextGaussian() * 1e8) / 100.0 / 3; // thirds of cents
            };
            int digits = rng.nextInt(8);
            assertEquals(PyMath.exact(x, digits), PyMath.round(x, digits), x + " to " + digits);
        }
    }

    @Test
    void centsAreWholeAndExact() {
        assertEquals(1999, PyMath.cents(19.99));
        assertEquals(-5, PyMath.cents(-0.05));
    }
}
