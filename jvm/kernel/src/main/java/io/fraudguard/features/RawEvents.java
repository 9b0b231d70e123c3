package io.fraudguard.features;

import java.util.Arrays;

/**
 * Every event of an entity's last {@code horizonMs}: its time, its amount in whole cents (taken
 * once, on arrival, for every window's sum to reuse) and a few string columns, kept in time
 * order. Events usually arrive in order and are appended; a late one is inserted at its place.
 *
 * <p>A transaction at {@code t} sees the events with {@code t - W < ts < t} plus itself, so
 * simultaneous events never see each other and the order they arrive in does not matter.
 *
 * <p>Each string column is held as codes into a dictionary of its values (a card's history
 * names the same few merchants, countries and devices): the packed form is the same
 * dictionary (in order of value) and codes, so packing and unpacking never look a string up
 * per event, and distinct counts compare ints. A dictionary holds each value once (null
 * included, as a value), and may hold values no live event has any more; it is compacted when
 * it holds more than twice as many values as there are live events, plus 16.
 */
public final class RawEvents implements PackedState<RawEvents> {
    /** The layout {@link #pack} writes; {@link #unpack(Unpacker, int)} reads 1 to it. */
    public static final int LAYOUT = 2;
    /** {@link #code}: the value is in no event's column. */
    static final int ABSENT = -1;

    final long horizonMs;
    final int columns;
    long[] ts;
    long[] cents;
    int[][] codes; // codes[column][event]: an index into dictionary[column]
    String[][] dictionary;
    int[] dictionarySize;
    int start;
    int end;

    public RawEvents(long horizonMs, int columns) {
        this(horizonMs, columns, 0);
    }

    private RawEvents(long horizonMs, int columns, int live) {
        int capacity = Math.max(4, live + (live >> 2));
        this.horizonMs = horizonMs;
        this.columns = columns;
        this.ts = new long[capacity];
        this.cents = new long[capacity];
        this.codes = new int[columns][capacity];
        this.dictionary = new String[columns][4];
        this.dictionarySize = new int[columns];
    }

    public int size() {
        return end - start;
    }

    /** The code of {@code value} in {@code column}, or {@link #ABSENT}. */
    int code(int column, String value) {
        String[] d = dictionary[column];
        int n = dictionarySize[column];
        for (int c = 0; c < n; c++) { // identity first: unpacked values are shared objects
            if (d[c] == value) {
                return c;
            }
        }
        if (value != null) {
            for (int c = 0; c < n; c++) {
                if (value.equals(d[c])) {
                    return c;
                }
            }
        }
        return ABSENT;
    }

    /** The codes of a row's values, each added to its column's dictionary when new. */
    public int[] intern(String... row) {
        int[] out = new int[columns];
        for (int c = 0; c < columns; c++) {
            int known = code(c, row[c]);
            if (known == ABSENT) {
                known = dictionarySize[c];
                if (known == dictionary[c].length) {
                    dictionary[c] = Arrays.copyOf(dictionary[c], 2 * known);
                }
                dictionary[c][known] = row[c];
                dictionarySize[c]++;
            }
            out[c] = known;
        }
        return out;
    }

    /** Records an event (after any events with the same timestamp). */
    public void add(long tsMs, double amount, String... row) {
        add(tsMs, amount, intern(row));
    }

    /** Records an event whose values are {@code row}, codes from {@link #intern}. */
    public void add(long tsMs, double amount, int[] row) {
        makeRoom(); // first: it may move the events, and with them every position
        int position;
        if (end == start || tsMs >= ts[end - 1]) {
            position = end;
        } else {
            position = bisectRight(ts, start, end, tsMs);
            System.arraycopy(ts, position, ts, position + 1, end - position);
            System.arraycopy(cents, position, cents, position + 1, end - position);
            for (int[] column : codes) {
                System.arraycopy(column, position, column, position + 1, end - position);
            }
        }
        ts[position] = tsMs;
        cents[position] = PyMath.cents(amount);
        for (int c = 0; c < columns; c++) {
            codes[c][position] = row[c];
        }
        end++;
        start = bisectRight(ts, start, end, ts[end - 1] - horizonMs);
        for (int c = 0; c < columns; c++) {
            // Values of evicted events stay in the dictionary until it is twice the live
            // events: a state kept in memory (the offline path, the heap backend) stays bounded.
            if (dictionarySize[c] > 2 * (end - start) + 16) {
                compact(c);
            }
        }
    }

    /** How many values {@code column}'s dictionary holds: the size scratch arrays need. */
    int dictionarySize(int column) {
        return dictionarySize[column];
    }

    /**
     * Renumbers {@code column}'s codes in order of first appearance among the live events into
     * {@code map} (at least {@link #dictionarySize} long), and returns how many distinct values
     * they use; {@code map[old code]} is the new code, or -1 when no live event has it.
     */
    private int renumber(int column, int[] map) {
        int n = dictionarySize[column];
        Arrays.fill(map, 0, n, -1);
        int used = 0;
        int[] col = codes[column];
        for (int i = start; i < end; i++) {
            if (map[col[i]] < 0) {
                map[col[i]] = used++;
            }
        }
        return used;
    }

    private void compact(int column) {
        int[] work = new int[dictionarySize[column]];
        int used = renumber(column, work);
        String[] old = dictionary[column];
        String[] kept = new String[Math.max(4, used + (used >> 1))];
        for (int c = 0; c < dictionarySize[column]; c++) {
            if (work[c] >= 0) {
                kept[work[c]] = old[c];
            }
        }
        int[] col = codes[column];
        for (int i = start; i < end; i++) {
            col[i] = work[col[i]];
        }
        dictionary[column] = kept;
        dictionarySize[column] = used;
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
            for (int[] column : codes) {
                System.arraycopy(column, start, column, 0, live);
            }
        } else {
            int capacity = Math.max(4, ts.length * 2);
            long[] t = new long[capacity];
            long[] a = new long[capacity];
            System.arraycopy(ts, start, t, 0, live);
            System.arraycopy(cents, start, a, 0, live);
            for (int c = 0; c < columns; c++) {
                int[] column = new int[capacity];
                System.arraycopy(codes[c], start, column, 0, live);
                codes[c] = column;
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

    /** The newest time at which {@code column} held the value {@code code}, or {@code never}. */
    long lastAt(int column, int code, long never) {
        int[] col = codes[column];
        for (int i = end - 1; i >= start; i--) { // in time order: newest first
            if (col[i] == code) {
                return ts[i];
            }
        }
        return never;
    }

    /**
     * How many different non-null values {@code column} holds in {@code [lo, hi)} and
     * {@code own} (a code); {@code scratch} is at least {@link #dictionarySize} long.
     */
    int distinct(int column, int lo, int hi, int own, int[] scratch) {
        Arrays.fill(scratch, 0, dictionarySize[column], 0);
        String[] d = dictionary[column];
        int count = 0;
        int[] col = codes[column];
        for (int i = lo; i <= hi; i++) {
            int c = i < hi ? col[i] : own;
            if (scratch[c] == 0) { // a value's first sighting: null is no value, not counted
                scratch[c] = 1;
                if (d[c] != null) {
                    count++;
                }
            }
        }
        return count;
    }

    /** How many events of {@code [lo, hi)} hold the value {@code code} in {@code column}. */
    int count(int column, int lo, int hi, int code) {
        int[] col = codes[column];
        int count = 0;
        for (int i = lo; i < hi; i++) {
            if (col[i] == code) {
                count++;
            }
        }
        return count;
    }

    /**
     * How often the most frequent value of {@code column} occurs in {@code [lo, hi)};
     * {@code scratch} is at least {@link #dictionarySize} long.
     */
    int topCount(int column, int lo, int hi, int[] scratch) {
        int n = dictionarySize[column];
        int[] counts = scratch;
        Arrays.fill(counts, 0, n, 0);
        int most = 0;
        int[] col = codes[column];
        for (int i = lo; i < hi; i++) {
            most = Math.max(most, ++counts[col[i]]);
        }
        return most;
    }

    /** An independent copy of the live events (strings are shared: they never change). */
    @Override
    public RawEvents copy() {
        int n = end - start;
        RawEvents c = new RawEvents(horizonMs, columns, n);
        System.arraycopy(ts, start, c.ts, 0, n);
        System.arraycopy(cents, start, c.cents, 0, n);
        for (int k = 0; k < columns; k++) {
            System.arraycopy(codes[k], start, c.codes[k], 0, n);
            c.dictionary[k] = dictionary[k].clone();
            c.dictionarySize[k] = dictionarySize[k];
        }
        c.end = n;
        return c;
    }

    /**
     * Puts the codes of {@code column}'s values that live events hold into
     * {@code work[offset, offset + used)} in order of value (null first), and each one's place in
     * that order into {@code work[code]} (-1: no live event holds it); returns {@code used}.
     * {@code work} is at least {@code offset} plus {@link #dictionarySize} long.
     */
    private int sortLive(int column, int[] work, int offset) {
        int n = dictionarySize[column];
        Arrays.fill(work, 0, n, -1);
        int[] col = codes[column];
        for (int i = start; i < end; i++) {
            work[col[i]] = 0;
        }
        String[] d = dictionary[column];
        int used = 0;
        for (int code = 0; code < n; code++) {
            if (work[code] == 0) {
                work[offset + used++] = code;
            }
        }
        if (used <= 64) {
            // Insertion: a dictionary read back is in order already, and new values are few.
            for (int k = offset + 1; k < offset + used; k++) {
                int code = work[k];
                int j = k;
                while (j > offset && compare(d[work[j - 1]], d[code]) > 0) {
                    work[j] = work[j - 1];
                    j--;
                }
                work[j] = code;
            }
        } else {
            Integer[] order = new Integer[used];
            for (int k = 0; k < used; k++) {
                order[k] = work[offset + k];
            }
            Arrays.sort(order, (a, b) -> compare(d[a], d[b]));
            for (int k = 0; k < used; k++) {
                work[offset + k] = order[k];
            }
        }
        for (int k = 0; k < used; k++) {
            work[work[offset + k]] = k;
        }
        return used;
    }

    /** String order with null first: a dictionary holds each value once, so no ties. */
    private static int compare(String a, String b) {
        if (a == null || b == null) {
            return a == null ? (b == null ? 0 : -1) : 1;
        }
        return a.compareTo(b);
    }

    /**
     * Writes the live events as bit-packed columns ({@link Packer#bits}): times as gaps after
     * the first, cents, and per string column its distinct values once, in sorted order and
     * front-coded ({@link Packer#frontCoded}: a card's merchants and terminals share prefixes),
     * then each event's index among them. In a generated month (5,000 cards) the values'
     * strings are 42% of the cards' packed bytes; sorted and front-coded they take a
     * quarter less, and the cards 11% less.
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
        for (int c = 0; c < columns; c++) {
            int size = dictionarySize[c];
            int[] work = p.ints(2 * size);
            int used = sortLive(c, work, size);
            String[] d = dictionary[c];
            p.varInt(used);
            String previous = null;
            for (int k = 0; k < used; k++) {
                String value = d[work[size + k]];
                p.frontCoded(previous, value);
                previous = value;
            }
            int[] col = codes[c];
            for (int i = 0; i < n; i++) {
                column[i] = work[col[start + i]];
            }
            p.bits(column, 0, n);
        }
    }

    public static RawEvents unpack(Unpacker u) {
        return unpack(u, LAYOUT);
    }

    /** The events {@link #pack} wrote in {@code layout}. */
    public static RawEvents unpack(Unpacker u, int layout) {
        Unpacker.checkLayout("events", layout, LAYOUT);
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
        long[] read = new long[n];
        for (int c = 0; c < columns; c++) {
            int size = u.varInt();
            String[] d = new String[Math.max(4, size + 4)];
            String previous = null;
            for (int k = 0; k < size; k++) {
                // layout 1: plain strings, in order of first appearance among the events
                d[k] = layout == 1 ? u.string() : u.frontCoded(previous);
                previous = d[k];
            }
            r.dictionary[c] = d;
            r.dictionarySize[c] = size;
            u.bits(read, n);
            int[] col = r.codes[c];
            for (int i = 0; i < n; i++) {
                if (read[i] >= size) {
                    throw new IllegalStateException("a packed string index is out of range");
                }
                col[i] = (int) read[i];
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
