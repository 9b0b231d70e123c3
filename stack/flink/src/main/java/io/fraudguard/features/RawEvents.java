package io.fraudguard.features;

import java.util.Arrays;

/**
 * Every event of an entity's last {@code horizonMs}: its time, its amount in whole cents (taken
 * once, on arrival, for every window's sum to reuse) and a few string
 * columns, kept in time order. Events usually arrive
 * in order and are appended; a late one is inserted at its place.
 *
 * <p>A transaction at {@code t} sees the events with {@code t - W < ts < t} plus itself, so
 * simultaneous events never see each other and the order they arrive in does not matter.
 */
public final class RawEvents {
    final long horizonMs;
    final int columns;
    long[] ts;
    long[] cents;
    String[][] values; // values[column][event]
    int start;
    int end;

    public RawEvents(long horizonMs, int columns) {
        this.horizonMs = horizonMs;
        this.columns = columns;
        this.ts = new long[4];
        this.cents = new long[4];
        this.values = new String[columns][4];
    }

    public int size() {
        return end - start;
    }

    /** Records an event (after any events with the same timestamp). */
    public void add(long tsMs, double amount, String... row) {
        makeRoom(); // first: it may move the events, and with them every position
        int position;
        if (end == start || tsMs >= ts[end - 1]) {
            position = end;
        } else {
            position = bisectRight(ts, start, end, tsMs);
            System.arraycopy(ts, position, ts, position + 1, end - position);
            System.arraycopy(cents, position, cents, position + 1, end - position);
            for (String[] column : values) {
                System.arraycopy(column, position, column, position + 1, end - position);
            }
        }
        ts[position] = tsMs;
        cents[position] = PyMath.cents(amount);
        for (int c = 0; c < columns; c++) {
            values[c][position] = row[c];
        }
        end++;
        start = bisectRight(ts, start, end, ts[end - 1] - horizonMs);
    }

    private void makeRoom() {
        if (end < ts.length) {
            return;
        }
        int live = end - start;
        if (start > 0 && live < ts.length / 2) {
            // Slide the live events to the front instead of growing.
            System.arraycopy(ts, start, ts, 0, live);
            System.arraycopy(cents, start, cents, 0, live);
            for (String[] column : values) {
                System.arraycopy(column, start, column, 0, live);
                Arrays.fill(column, live, end, null);
            }
        } else {
            int capacity = Math.max(4, ts.length * 2);
            long[] t = new long[capacity];
            long[] a = new long[capacity];
            System.arraycopy(ts, start, t, 0, live);
            System.arraycopy(cents, start, a, 0, live);
            for (int c = 0; c < columns; c++) {
                String[] column = new String[capacity];
                System.arraycopy(values[c], start, column, 0, live);
                values[c] = column;
            }
            ts = t;
            cents = a;
        }
        start = 0;
        end = live;
    }

    /** Start of the events with {@code t - windowMs < ts}, among those before {@code hi}. */
    int windowStart(long tMs, long windowMs, int hi) {
        return bisectRight(ts, start, hi, tMs - windowMs);
    }

    /** End (exclusive) of the events with {@code ts < t}. */
    int before(long tMs) {
        return bisectLeft(ts, start, end, tMs);
    }

    static int bisectRight(long[] a, int lo, int hi, long x) {
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (x < a[mid]) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        return lo;
    }

    static int bisectLeft(long[] a, int lo, int hi, long x) {
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (a[mid] < x) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }
}
