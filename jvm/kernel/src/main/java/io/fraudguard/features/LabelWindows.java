package io.fraudguard.features;

import java.util.Arrays;

/**
 * What one entity has learnt from labels: the payments labelled fraud (each once, with when its
 * label was reported) and, for the fraud rates, the entity's payments counted per bucket of
 * event time. The kernel applies labels and payments in processing order, so a payment sees only
 * the labels reported before its event time.
 *
 * <pre>{@code
 * LabelWindows w = new LabelWindows(30 * DAY, HOUR);
 * w.addLabel("t1", 10 * HOUR);  w.addLabel("t1", 11 * HOUR);  // the same payment: once
 * w.addPayment(12 * HOUR);  w.addPayment(12 * HOUR + 5);
 * w.fraudLabels(12 * HOUR + 5, DAY) == 1 && w.payments(12 * HOUR + 5, DAY) == 2
 * }</pre>
 */
public final class LabelWindows implements PackedState<LabelWindows> {
    /** The layout {@link #pack} writes. */
    public static final int LAYOUT = 1;
    /** Labels and payment buckets older than this behind the newest time are dropped; 0: kept. */
    final long horizonMs;
    final long bucketMs;
    long newestMs = Long.MIN_VALUE;
    long[] buckets = new long[0]; // bucket numbers, ascending
    int[] counts = new int[0];
    int bucketCount;
    long[] reportedMs = new long[0];
    String[] txnIds = new String[0];
    int labelCount;

    public LabelWindows(long horizonMs, long bucketMs) {
        this.horizonMs = horizonMs;
        this.bucketMs = bucketMs;
    }

    /** A fraud label of payment {@code txnId}, reported at {@code reportedMs}; false: known. */
    public boolean addLabel(String txnId, long reportedMs) {
        for (int i = 0; i < labelCount; i++) {
            if (txnIds[i].equals(txnId)) {
                return false;
            }
        }
        if (labelCount == txnIds.length) {
            int n = Math.max(4, 2 * labelCount);
            txnIds = Arrays.copyOf(txnIds, n);
            this.reportedMs = Arrays.copyOf(this.reportedMs, n);
        }
        txnIds[labelCount] = txnId;
        this.reportedMs[labelCount++] = reportedMs;
        advance(reportedMs);
        return true;
    }

    /** Counts a payment at {@code tsMs} in its bucket. */
    public void addPayment(long tsMs) {
        long bucket = Math.floorDiv(tsMs, bucketMs);
        int at = Arrays.binarySearch(buckets, 0, bucketCount, bucket);
        if (at >= 0) {
            counts[at]++;
        } else {
            at = -at - 1;
            if (bucketCount == buckets.length) {
                int n = Math.max(4, 2 * bucketCount);
                buckets = Arrays.copyOf(buckets, n);
                counts = Arrays.copyOf(counts, n);
            }
            System.arraycopy(buckets, at, buckets, at + 1, bucketCount - at);
            System.arraycopy(counts, at, counts, at + 1, bucketCount - at);
            buckets[at] = bucket;
            counts[at] = 1;
            bucketCount++;
        }
        advance(tsMs);
    }

    /** Payments labelled fraud whose label was reported in {@code (tsMs - windowMs, tsMs)}; all
     * reported before {@code tsMs} when {@code windowMs} is 0. */
    public int fraudLabels(long tsMs, long windowMs) {
        int n = 0;
        for (int i = 0; i < labelCount; i++) {
            long r = reportedMs[i];
            if (r < tsMs && (windowMs == 0 || r > tsMs - windowMs)) {
                n++;
            }
        }
        return n;
    }

    /** Payments counted in the buckets that start after {@code tsMs - windowMs}, up to the
     * bucket of {@code tsMs}. */
    public int payments(long tsMs, long windowMs) {
        long first = Math.floorDiv(tsMs - windowMs, bucketMs) + 1;
        long last = Math.floorDiv(tsMs, bucketMs);
        int n = 0;
        // From the newest bucket back: a payment's own bucket is nearly always the last one.
        for (int i = bucketCount - 1; i >= 0 && buckets[i] >= first; i--) {
            if (buckets[i] <= last) {
                n += counts[i];
            }
        }
        return n;
    }

    public int labelCount() {
        return labelCount;
    }

    private void advance(long tsMs) {
        if (tsMs <= newestMs) {
            return;
        }
        newestMs = tsMs;
        if (horizonMs == 0) {
            return;
        }
        long oldest = tsMs - horizonMs;
        int kept = 0;
        for (int i = 0; i < labelCount; i++) {
            if (reportedMs[i] > oldest) {
                txnIds[kept] = txnIds[i];
                reportedMs[kept++] = reportedMs[i];
            }
        }
        Arrays.fill(txnIds, kept, labelCount, null);
        labelCount = kept;
        long firstBucket = Math.floorDiv(oldest, bucketMs);
        int drop = 0;
        while (drop < bucketCount && buckets[drop] < firstBucket) {
            drop++;
        }
        if (drop > 0) {
            System.arraycopy(buckets, drop, buckets, 0, bucketCount - drop);
            System.arraycopy(counts, drop, counts, 0, bucketCount - drop);
            bucketCount -= drop;
        }
    }

    @Override
    public LabelWindows copy() {
        LabelWindows c = new LabelWindows(horizonMs, bucketMs);
        c.newestMs = newestMs;
        c.buckets = Arrays.copyOf(buckets, bucketCount);
        c.counts = Arrays.copyOf(counts, bucketCount);
        c.bucketCount = bucketCount;
        c.reportedMs = Arrays.copyOf(reportedMs, labelCount);
        c.txnIds = Arrays.copyOf(txnIds, labelCount);
        c.labelCount = labelCount;
        return c;
    }

    @Override
    public void pack(Packer p) {
        p.varLong(horizonMs);
        p.varLong(bucketMs);
        p.varLong(newestMs);
        p.varInt(bucketCount);
        long previous = 0;
        for (int i = 0; i < bucketCount; i++) {
            p.varLong(buckets[i] - previous);
            previous = buckets[i];
            p.varInt(counts[i]);
        }
        p.varInt(labelCount);
        for (int i = 0; i < labelCount; i++) {
            p.string(txnIds[i]);
            p.varLong(reportedMs[i]);
        }
    }

    public static LabelWindows unpack(Unpacker u) {
        return unpack(u, LAYOUT);
    }

    /** The state {@link #pack} wrote in {@code layout}. */
    public static LabelWindows unpack(Unpacker u, int layout) {
        Unpacker.checkLayout("label windows", layout, LAYOUT);
        LabelWindows w = new LabelWindows(u.varLong(), u.varLong());
        w.newestMs = u.varLong();
        w.bucketCount = u.varInt();
        w.buckets = new long[w.bucketCount];
        w.counts = new int[w.bucketCount];
        long previous = 0;
        for (int i = 0; i < w.bucketCount; i++) {
            previous += u.varLong();
            w.buckets[i] = previous;
            w.counts[i] = u.varInt();
        }
        w.labelCount = u.varInt();
        w.txnIds = new String[w.labelCount];
        w.reportedMs = new long[w.labelCount];
        for (int i = 0; i < w.labelCount; i++) {
            w.txnIds[i] = u.string();
            w.reportedMs[i] = u.varLong();
        }
        return w;
    }
}
