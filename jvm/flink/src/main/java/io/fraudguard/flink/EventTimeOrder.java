package io.fraudguard.flink;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;

/**
 * The keyed feature steps' buffer: an entity's payments wait in keyed state until the watermark
 * passes their event time, then leave in processing order, event time then transaction id, the
 * order of the offline path ({@code fraudguard.features.offline.processing_order}); equal ones
 * keep their arrival order. A payment already behind the watermark does not wait: it is late.
 */
final class EventTimeOrder {
    static final Comparator<Enriched> PROCESSING_ORDER =
            Comparator.comparingLong((Enriched e) -> e.tsMs).thenComparing(e -> e.txnId);

    private EventTimeOrder() {}

    /** The state of one step's waiting payments (a Flink POJO list, so any backend keeps it). */
    static ListStateDescriptor<Enriched> pendingState() {
        return new ListStateDescriptor<>("pending", TypeInformation.of(Enriched.class));
    }

    /**
     * Takes out of {@code pending} the payments at or before {@code timerMs}, in processing
     * order; the others stay. Called from the timer of each payment's event time, as the
     * watermark passes them in order, so a step's output is in event-time order too.
     */
    static List<Enriched> takeDue(ListState<Enriched> pending, long timerMs) throws Exception {
        List<Enriched> due = new ArrayList<>();
        List<Enriched> waiting = new ArrayList<>();
        Iterable<Enriched> all = pending.get();
        if (all == null) {
            return due;
        }
        for (Enriched e : all) {
            (e.tsMs <= timerMs ? due : waiting).add(e);
        }
        if (due.isEmpty()) {
            return due;
        }
        due.sort(PROCESSING_ORDER);
        if (waiting.isEmpty()) {
            pending.clear();
        } else {
            pending.update(waiting);
        }
        return due;
    }
}
