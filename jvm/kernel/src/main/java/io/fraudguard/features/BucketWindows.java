package io.fraudguard.features;

import java.util.HashSet;

/**
 * Count, sum and distinct keys over several windows, each with buckets of its own width, so
 * that state stays small for busy merchants.
 *
 * <p>When each key (card) was last seen here is not part of this state: the card's own history
 * answers it ({@link FeatureKernel#card}), so a busy merchant keeps nothing per card.
 */
public final class BucketWindows implements PackedState<BucketWindows> {
    /** The layout {@link #pack} writes; {@link #unpack(Unpacker, int)} reads 1 to it. */
    public static final int LAYOUT = 1;
    final BucketSeries[] series;
    // What events of the newest millisecond added, so a simultaneous event leaves them out.
    long peerTs = -(1L << 62);
    long[] peerCount;
    long[] peerCents;
    HashSet<String>[] peerKeys;

    public BucketWindows(long[][] windows) {
        series = new BucketSeries[windows.length];
        for (int w = 0; w < windows.length; w++) {
            series[w] = new BucketSeries(windows[w][0], windows[w][1]);
        }
        resetPeers();
    }

    private BucketWindows(BucketSeries[] series) {
        this.series = series;
        resetPeers();
    }

    @Override
    public BucketWindows copy() {
        BucketSeries[] s = new BucketSeries[series.length];
        for (int w = 0; w < s.length; w++) {
            s[w] = series[w].copy();
        }
        BucketWindows c = new BucketWindows(s);
        c.peerTs = peerTs;
        for (int w = 0; w < s.length; w++) {
            c.peerCount[w] = peerCount[w];
            c.peerCents[w] = peerCents[w];
            c.peerKeys[w].addAll(peerKeys[w]);
        }
        return c;
    }

    @Override
    public void pack(Packer p) {
        p.varInt(series.length);
        for (BucketSeries s : series) {
            s.pack(p);
        }
        p.varLong(peerTs);
        for (int w = 0; w < series.length; w++) {
            p.varLong(peerCount[w]);
            p.varLong(peerCents[w]);
            p.varInt(peerKeys[w].size());
            for (String key : peerKeys[w]) {
                p.string(key);
            }
        }
    }

    /** The state {@link #pack} wrote. */
    public static BucketWindows unpack(Unpacker u) {
        return unpack(u, LAYOUT);
    }

    /** The state {@link #pack} wrote in {@code layout}. */
    public static BucketWindows unpack(Unpacker u, int layout) {
        Unpacker.checkLayout("buckets", layout, LAYOUT);
        BucketSeries[] s = new BucketSeries[u.varInt()];
        for (int w = 0; w < s.length; w++) {
            s[w] = BucketSeries.unpack(u);
        }
        BucketWindows b = new BucketWindows(s);
        b.peerTs = u.varLong();
        for (int w = 0; w < s.length; w++) {
            b.peerCount[w] = u.varLong();
            b.peerCents[w] = u.varLong();
            int keys = u.varInt();
            for (int k = 0; k < keys; k++) {
                b.peerKeys[w].add(u.string());
            }
        }
        return b;
    }

    @SuppressWarnings("unchecked")
    private void resetPeers() {
        if (peerKeys == null) {
            peerCount = new long[series.length];
            peerCents = new long[series.length];
            peerKeys = new HashSet[series.length];
            for (int w = 0; w < series.length; w++) {
                peerKeys[w] = new HashSet<>();
            }
            return;
        }
        for (int w = 0; w < series.length; w++) {
            peerCount[w] = 0;
            peerCents[w] = 0;
            if (!peerKeys[w].isEmpty()) {
                peerKeys[w].clear();
            }
        }
    }

    /** The windows, shortest first. */
    public BucketSeries[] series() {
        return series;
    }

    /**
     * Records an event of {@code key}, last seen here at {@code previous} (null: not seen); per
     * window writes the count, sum and distinct keys of the earlier events inside it plus this
     * one (events of the same millisecond excluded) to {@code out[w]}.
     */
    public void add(long tsMs, double amount, String key, Long previous, double[][] out) {
        if (tsMs > peerTs) {
            peerTs = tsMs;
            resetPeers();
        }
        boolean peers = tsMs == peerTs; // a late event: no peers known
        for (int w = 0; w < series.length; w++) {
            BucketSeries s = series[w];
            boolean entered = s.add(tsMs, amount, previous);
            long count = s.totalCount;
            long total = s.totalCents;
            long distinct = s.totalDistinct;
            if (peers) {
                HashSet<String> keys = peerKeys[w];
                count -= peerCount[w];
                total -= peerCents[w];
                distinct -= keys.size() - (keys.contains(key) ? 1 : 0);
                peerCount[w] += 1;
                peerCents[w] += PyMath.cents(amount);
                if (entered) {
                    keys.add(key);
                }
            } else if (peerKeys[w].contains(key) && s.inside(Math.floorDiv(tsMs, s.bucketMs))) {
                // A late sighting inside the window: the key no longer owes its place in it to
                // a payment of the newest millisecond, which the next such payment leaves out.
                peerKeys[w].remove(key);
            }
            out[w][0] = count;
            out[w][1] = total / 100.0;
            out[w][2] = distinct;
        }
    }
}
