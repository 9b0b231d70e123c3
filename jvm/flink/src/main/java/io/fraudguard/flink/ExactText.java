package io.fraudguard.flink;

/**
 * Doubles as the shortest-to-write text that reads back as the same double, for the online
 * store. Most feature values are counts, amounts in cents or ratios rounded to six places; those
 * are written from a long (no {@code Double.toString}, which took a tenth of the job's Java time
 * on the bench). Any other value falls back to {@code Double.toString}, which round-trips.
 * {@link #appendJson} writes the same numbers as JSON, for the features of a decision record.
 */
public final class ExactText {
    private static final long[] SCALE = {1L, 100L, 1_000_000L};
    private static final int[] PLACES = {0, 2, 6};
    private static final long EXACT_LONG = 1L << 53; // every long below it is a double

    private ExactText() {}

    /** Appends {@code v}: {@code Double.parseDouble} of what is written gives back {@code v}. */
    public static StringBuilder append(StringBuilder out, double v) {
        int k = scale(v);
        return k < 0 ? out.append(v) : decimal(out, Math.round(v * SCALE[k]), PLACES[k]);
    }

    /**
     * Appends {@code v} as a JSON value that a JSON reader takes for the same double, as orjson
     * writes one: a whole number keeps a {@code .0} (so it reads back as a float, not an int),
     * and NaN and the infinities, which JSON has no numbers for, are {@code null}.
     */
    public static StringBuilder appendJson(StringBuilder out, double v) {
        if (!Double.isFinite(v)) {
            return out.append("null");
        }
        int k = scale(v);
        if (k < 0) {
            return out.append(v); // Double.toString always has a '.' or an exponent
        }
        decimal(out, Math.round(v * SCALE[k]), PLACES[k]);
        return k == 0 ? out.append(".0") : out;
    }

    /** Which scale writes {@code v} exactly from a long, or -1: {@code Double.toString} must. */
    public static int scale(double v) {
        if (v == 0.0 && Double.doubleToRawLongBits(v) != 0L) {
            return -1; // -0.0: a long has no sign of zero
        }
        for (int k = 0; k < SCALE.length; k++) {
            double scaled = v * SCALE[k];
            if (!(Math.abs(scaled) < EXACT_LONG)) {
                return -1; // too large for a long to hold exactly (NaN and infinities too)
            }
            // units / SCALE is correctly rounded, as is parsing its decimal text: the same double.
            if ((double) Math.round(scaled) / SCALE[k] == v) {
                return k;
            }
        }
        return -1;
    }

    private static StringBuilder decimal(StringBuilder out, long units, int places) {
        if (units < 0) {
            out.append('-');
            units = -units;
        }
        if (places == 0) {
            return out.append(units);
        }
        long scale = SCALE[places == 2 ? 1 : 2];
        out.append(units / scale).append('.');
        String fraction = Long.toString(units % scale);
        for (int pad = places - fraction.length(); pad > 0; pad--) {
            out.append('0');
        }
        return out.append(fraction);
    }
}
