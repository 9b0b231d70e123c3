package io.fraudguard.features;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Transaction ids of one card seen within the last {@code ttlMs} of event time, so a retried id
 * gets one decision.
 */
public final class SeenTransactions {
    final long ttlMs;
    final LinkedHashMap<String, Long> seen = new LinkedHashMap<>();
    long maxTs;

    public SeenTransactions(long ttlMs) {
        this.ttlMs = ttlMs;
    }

    /** Records {@code txnId}; false when it was already seen within the TTL. */
    public boolean firstTime(String txnId, long tsMs) {
        if (tsMs > maxTs) {
            maxTs = tsMs;
            expire();
        }
        if (seen.containsKey(txnId)) {
            return false;
        }
        seen.put(txnId, tsMs);
        return true;
    }

    private void expire() {
        long horizon = maxTs - ttlMs;
        // Insertion order is nearly event order for one card: stop at the first id inside.
        Iterator<Map.Entry<String, Long>> it = seen.entrySet().iterator();
        while (it.hasNext()) {
            if (it.next().getValue() >= horizon) {
                break;
            }
            it.remove();
        }
    }

    /** An independent copy, in the same order. */
    public SeenTransactions copy() {
        SeenTransactions c = new SeenTransactions(ttlMs);
        c.seen.putAll(seen);
        c.maxTs = maxTs;
        return c;
    }

    public void pack(Packer p) {
        p.varLong(ttlMs);
        p.varLong(maxTs);
        p.varInt(seen.size());
        String previous = null; // ids of one card often share a prefix (the sender's numbering)
        for (Map.Entry<String, Long> e : seen.entrySet()) {
            p.frontCoded(previous, e.getKey());
            p.varLong(maxTs - e.getValue());
            previous = e.getKey();
        }
    }

    /** The ids {@link #pack} wrote, in the card's {@code layout}. */
    public static SeenTransactions unpack(Unpacker u, int layout) {
        Unpacker.checkLayout("retried ids", layout, FeatureKernel.CardState.LAYOUT);
        SeenTransactions s = new SeenTransactions(u.varLong());
        s.maxTs = u.varLong();
        int n = u.varInt();
        String id = null;
        for (int i = 0; i < n; i++) {
            id = layout == 1 ? u.string() : u.frontCoded(id);
            s.seen.put(id, s.maxTs - u.varLong());
        }
        return s;
    }

    public int size() {
        return seen.size();
    }
}
