package io.fraudguard.features;

import java.math.BigDecimal;
import java.math.RoundingMode;

/** Rounding as Python's {@code round} does it, and exact sums in cents. */
final class PyMath {
    private PyMath() {}

    /**
     * Whole cents of an amount in euro (amounts are rounded to the cent on conversion). Sums are
     * taken in cents, exactly, so they do not depend on the order of the events summed.
     */
    static long cents(double eur) {
        return Math.round(eur * 100.0);
    }

    private static final double[] POW10 = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};

    /**
     * Python's {@code round(x, digits)}: the exact binary value rounded half-even to
     * {@code digits} decimals, then the nearest double.
     *
     * <p>Fast path: {@code x * 10^digits} is within a quarter of its own ulp-bound of the exact
     * product, so unless the product lies that close to a half-integer, rounding it to the
     * nearest integer rounds the exact value; an integer below 2^52 divided by an exact power of
     * ten is then correctly rounded by IEEE division. Near a tie, BigDecimal decides exactly.
     */
    static double round(double x, int digits) {
        if (x == 0.0 || !Double.isFinite(x)) {
            return x;
        }
        if (digits >= 0 && digits < POW10.length) {
            double scale = POW10[digits];
            double p = x * scale;
            double magnitude = Math.abs(p);
            if (magnitude < 0x1p52) {
                double floor = Math.floor(p);
                double fraction = p - floor; // exact below 2^52
                if (Math.abs(fraction - 0.5) > magnitude * 0x1p-51 + Double.MIN_VALUE) {
                    double result = (fraction < 0.5 ? floor : floor + 1) / scale;
                    return result == 0.0 && x < 0 ? -0.0 : result;
                }
            }
        }
        return exact(x, digits);
    }

    static double exact(double x, int digits) {
        if (x == 0.0 || !Double.isFinite(x)) {
            return x;
        }
        double rounded = new BigDecimal(x).setScale(digits, RoundingMode.HALF_EVEN).doubleValue();
        // Python keeps the sign of a value that rounds to zero: round(-1e-9, 6) is -0.0.
        return rounded == 0.0 && x < 0 ? -0.0 : rounded;
    }
}
