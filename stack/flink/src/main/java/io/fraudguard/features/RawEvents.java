package io.fraudguard.features;

import java.util.Arrays;
import java.util.HashMap;

/**
 * Every event of an entity's last {@code horizonMs}: its time, its amount in whole cents (taken
 * once, on arrival, for every window's sum to reuse) and a few string
 * columns, kept in time order. Events usually arrive
 * in order and are appended; a late one is inserted at its place.
 *
 * <p>A transaction at {@code t} sees the events with {@code t - W < ts < t} plus itself, so
 * simultaneous events never see each other and the order they arrive in does not matter.
 */
public final class RawEvents implements PackedState<RawEvents> {
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

    /** An independent copy of the live events (strings are shared: they never change). */
    @Override
    public RawEvents copy() {
        RawEvents c = new RawEvents(horizonMs, columns, end - start);
        int n = end - start;
        System.arraycopy(ts, start, c.ts, 0, n);
        System.arraycopy(cents, start, c.cents, 0, n);
        for (int k = 0; k < columns; k++) {
            System.arraycopy(values[k], start, c.values[k], 0, n);
        }
        c.end = n;
        return c;
    }

    private RawEvents(long horizonMs, int columns, int live) {
        int capacity = Math.max(4, live + (live >> 2));
        this.horizonMs = horizonMs;
        this.columns = columns;
        this.ts = new long[capacity];
        this.cents = new long[capacity];
        this.values = new String[columns][capacity];
    }

    /**
     * Writes the live events as bit-packed columns ({@link Packer#bits}): times as gaps after
     * the first, cents, and per string column its distinct strings once, then each event's
     * index among them (a card's history names the same few merchants, countries and devices).
     */
    @Override
    public void pack(Packer p) {
        int n = end - start;
        p.varLong(horizonMs);
        p.varInt(columns);
        p.varInt(n);
        if (n == 0) {
            return;
        }
        long[] column = p.scratch(n);
        p.varLong(ts[start]);
        for (int i = 1; i < n; i++) {
            column[i - 1] = ts[start + i] - ts[start + i - 1]; // events are kept in time order
        }
        p.bits(column, 0, n - 1);
        for (int i = 0; i < n; i++) {
            column[i] = Packer.zigzag(cents[start + i]);
        }
        p.bits(column, 0, n);
        String[] distinct = new String[n];
        HashMap<String, Integer> index = null;
        for (String[] strings : values) {
            int count = 0;
            if (index != null) {
                index.clear();
            }
            for (int i = 0; i < n; i++) {
                String value = strings[start + i];
                int known = count <= SCAN_LIMIT ? scan(distinct, count, value) : -1;
                if (count > SCAN_LIMIT) {
                    if (index == null) {
                        index = new HashMap<>();
                    }
                    if (index.isEmpty()) {
                        for (int d = 0; d < count; d++) {
                            index.put(distinct[d], d);
                        }
                    }
                    known = index.getOrDefault(value, -1);
                }
                if (known < 0) {
                    known = count;
                    distinct[count++] = value;
                    if (index != null && !index.isEmpty()) {
                        index.put(value, known);
                    }
                }
                column[i] = known;
            }
            p.varInt(count);
            for (int d = 0; d < count; d++) {
                p.string(distinct[d]);
            }
            p.bits(column, 0, n);
        }
    }

    /** Past this many distinct values a column's index is hashed instead of scanned. */
    static final int SCAN_LIMIT = 16;

    /**
     * Where {@code value} is among {@code distinct[0, count)}, or -1. A card's history names
     * a few merchants, countries and devices, and strings unpacked from one state are shared
     * objects, so a scan (identity first) beats hashing every value.
     */
    private static int scan(String[] distinct, int count, String value) {
        for (int d = 0; d < count; d++) {
            if (distinct[d] == value) {
                return d;
            }
        }
        if (value == null) {
            return -1;
        }
        for (int d = 0; d < count; d++) {
            if (value.equals(distinct[d])) {
                return d;
            }
        }
        return -1;
    }

    public static RawEvents unpack(Unpacker u) {
        long horizonMs = u.varLong();
        int columns = u.varInt();
        int n = u.varInt();
        RawEvents r = new RawEvents(horizonMs, columns, n);
        r.end = n;
        if (n == 0) {
            return r;
        }
        long last = u.varLong();
        r.ts[0] = last;
        u.bits(r.cents, n - 1); // the gaps, into a column not read yet
        for (int i = 1; i < n; i++) {
            last += r.cents[i - 1];
            r.ts[i] = last;
        }
        u.bits(r.cents, n);
        for (int i = 0; i < n; i++) {
            r.cents[i] = Unpacker.unzigzag(r.cents[i]);
        }
        long[] codes = new long[n];
        for (String[] strings : r.values) {
            String[] distinct = new String[u.varInt()];
            for (int d = 0; d < distinct.length; d++) {
                distinct[d] = u.string();
            }
            u.bits(codes, n);
            for (int i = 0; i < n; i++) {
                if (codes[i] >= distinct.length) {
                    throw new IllegalStateException("a packed string index is out of range");
                }
                strings[i] = distinct[(int) codes[i]];
            }
        }
        return r;
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
