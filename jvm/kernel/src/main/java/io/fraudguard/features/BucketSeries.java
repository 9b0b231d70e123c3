package io.fraudguard.features;

/**
 * One window kept as {@code (count, sum, keys last seen here)} per bucket of {@code bucketMs}
 * The window covers whole buckets: the bucket of
 * {@code t} and the ones before it, back to the bucket after the one holding {@code t - W}.
 * Running totals move in O(1) as time advances.
 *
 * <p>Sums are kept in whole cents, exactly: a bucket's sum does not depend on the order its
 * events arrived in, and taking a bucket out of the totals leaves no rounding behind.
 *
 * <p>Buckets are parallel arrays sorted by bucket number: new buckets append at the end and old
 * ones leave from the front, so only a late event in a bucket not held yet moves anything.
 */
public final class BucketSeries {
    final long windowMs;
    final long bucketMs;
    final long n;
    long[] ids = new long[8];
    long[] counts = new long[8];
    long[] cents = new long[8];
    long[] seen = new long[8];
    int start;
    int end;
    long totalCount;
    long totalCents;
    long totalDistinct;
    long current = -(1L << 62);

    public BucketSeries(long windowMs, long bucketMs) {
        if (windowMs % bucketMs != 0) {
            throw new IllegalArgumentException(
                    "a " + windowMs + " ms window is not a whole number of " + bucketMs + " ms");
        }
        this.windowMs = windowMs;
        this.bucketMs = bucketMs;
        this.n = windowMs / bucketMs;
    }

    boolean inside(long bucket) {
        return bucket > current - n;
    }

    /** Position of {@code bucket}, or -1 when it is not held. */
    int find(long bucket) {
        if (end == start || bucket > ids[end - 1]) {
            return -1; // the other usual case: a bucket newer than any held
        }
        if (ids[end - 1] == bucket) {
            return end - 1; // the usual case: the newest bucket
        }
        int lo = RawEvents.bisectLeft(ids, start, end, bucket);
        return lo < end && ids[lo] == bucket ? lo : -1;
    }

    /**
     * Counts an event; {@code previousMs} is when its key was last seen (null: never). Returns
     * whether the key entered this window.
     */
    boolean add(long tsMs, double amount, Long previousMs) {
        long bucket = Math.floorDiv(tsMs, bucketMs);
        if (bucket > current) {
            advance(bucket);
        } else if (!inside(bucket)) {
            // Later than the window is long: it can never be inside again. Holding its bucket
            // would subtract, on the next advance, totals that were never added.
            return false;
        }
        int held = find(bucket);
        if (held < 0) {
            held = insert(bucket);
        }
        counts[held] += 1;
        cents[held] += PyMath.cents(amount);
        totalCount += 1;
        totalCents += PyMath.cents(amount);
        if (previousMs == null) {
            seen[held] += 1;
            if (bucket > current - n) {
                totalDistinct += 1;
                return true;
            }
            return false;
        }
        long previous = Math.floorDiv(previousMs, bucketMs);
        if (previous >= bucket) {
            return false; // seen in this bucket already, or a late event of a key seen since
        }
        int old = find(previous);
        if (old >= 0) {
            seen[old] -= 1;
        }
        seen[held] += 1;
        long lo = current - n;
        if (bucket > lo && previous <= lo) {
            totalDistinct += 1;
            return true;
        }
        return false;
    }

    private void advance(long bucket) {
        current = bucket;
        long lo = bucket - n;
        while (start < end && ids[start] <= lo) {
            totalCount -= counts[start];
            totalCents -= cents[start];
            totalDistinct -= seen[start];
            start++;
        }
    }

    private int insert(long bucket) {
        if (end == ids.length) {
            int live = end - start;
            int capacity = live < ids.length / 2 ? ids.length : ids.length * 2;
            ids = slide(ids, capacity);
            counts = slide(counts, capacity);
            cents = slide(cents, capacity);
            seen = slide(seen, capacity);
            start = 0;
            end = live;
        }
        int position = end;
        if (end > start && bucket < ids[end - 1]) { // a late event in a bucket not held yet
            position = RawEvents.bisectLeft(ids, start, end, bucket);
            System.arraycopy(ids, position, ids, position + 1, end - position);
            System.arraycopy(counts, position, counts, position + 1, end - position);
            System.arraycopy(cents, position, cents, position + 1, end - position);
            System.arraycopy(seen, position, seen, position + 1, end - position);
        }
        ids[position] = bucket;
        counts[position] = 0;
        cents[position] = 0;
        seen[position] = 0;
        end++;
        return position;
    }

    /** An independent copy of the held buckets and the totals. */
    public BucketSeries copy() {
        BucketSeries c = new BucketSeries(windowMs, bucketMs);
        int live = end - start;
        int capacity = Math.max(8, live + (live >> 2));
        c.ids = slide(ids, capacity);
        c.counts = slide(counts, capacity);
        c.cents = slide(cents, capacity);
        c.seen = slide(seen, capacity);
        c.end = live;
        c.totalCount = totalCount;
        c.totalCents = totalCents;
        c.totalDistinct = totalDistinct;
        c.current = current;
        return c;
    }

    /**
     * The held buckets go as four bit-packed columns ({@link Packer#bits}): the gaps between
     * bucket numbers (after the newest held one's distance from the current bucket), counts,
     * cents and keys last seen; the last two zigzagged, so that no state can fail to pack.
     */
    public void pack(Packer p) {
        p.varLong(windowMs);
        p.varLong(bucketMs);
        p.varLong(current);
        p.varLong(totalCount);
        p.varLong(totalCents);
        p.varLong(totalDistinct);
        int live = end - start;
        p.varInt(live);
        if (live == 0) {
            return;
        }
        p.varLong(current - ids[end - 1]);
        long[] column = p.scratch(live);
        for (int i = 1; i < live; i++) {
            column[i - 1] = ids[start + i] - ids[start + i - 1] - 1; // held buckets ascend
        }
        p.bits(column, 0, live - 1);
        p.bits(counts, start, end);
        for (int i = 0; i < live; i++) {
            column[i] = Packer.zigzag(cents[start + i]);
        }
        p.bits(column, 0, live);
        for (int i = 0; i < live; i++) {
            column[i] = Packer.zigzag(seen[start + i]);
        }
        p.bits(column, 0, live);
    }

    public static BucketSeries unpack(Unpacker u) {
        BucketSeries s = new BucketSeries(u.varLong(), u.varLong());
        s.current = u.varLong();
        s.totalCount = u.varLong();
        s.totalCents = u.varLong();
        s.totalDistinct = u.varLong();
        int live = u.varInt();
        int capacity = Math.max(8, live + (live >> 2));
        s.ids = new long[capacity];
        s.counts = new long[capacity];
        s.cents = new long[capacity];
        s.seen = new long[capacity];
        s.end = live;
        if (live == 0) {
            return s;
        }
        long newest = s.current - u.varLong();
        u.bits(s.ids, live - 1); // the gaps, turned into bucket numbers below
        long id = newest;
        s.ids[live - 1] = id;
        for (int i = live - 2; i >= 0; i--) {
            id -= s.ids[i] + 1;
            s.ids[i] = id;
        }
        u.bits(s.counts, live);
        u.bits(s.cents, live);
        u.bits(s.seen, live);
        for (int i = 0; i < live; i++) {
            s.cents[i] = Unpacker.unzigzag(s.cents[i]);
            s.seen[i] = Unpacker.unzigzag(s.seen[i]);
        }
        return s;
    }

    private long[] slide(long[] a, int capacity) {
        long[] b = new long[capacity];
        System.arraycopy(a, start, b, 0, end - start);
        return b;
    }

    public int size() {
        return end - start;
    }
}
