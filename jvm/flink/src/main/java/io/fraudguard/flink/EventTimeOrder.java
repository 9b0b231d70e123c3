package io.fraudguard.flink;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.typeutils.ListTypeInfo;

/**
 * The buffer of the steps that order records by event time: a key's records wait in keyed
 * state, grouped by event time, until the watermark passes them; then the records of each event
 * time leave in processing order, event time then transaction id, the order of the offline path
 * ({@code fraudguard.features.offline.processing_order}); equal ones keep their arrival order. A
 * fraud label leaves after the payments of its own event time, so a payment sees only the labels
 * reported before it. A record already behind the watermark does not wait: it is late.
 *
 * <p>Grouped by event time (a map state), so that the timer of one event time reads and removes
 * only its own records: with one list per key, every timer read the key's whole list, and a key
 * holding thousands of waiting records (the exploration step's single key, a busy merchant after
 * a restore) took minutes to release them, holding back the checkpoint barrier.
 */
final class EventTimeOrder {
    static final Comparator<Enriched> PROCESSING_ORDER =
            Comparator.comparingLong((Enriched e) -> e.tsMs)
                    .thenComparing(e -> e.label)
                    .thenComparing(e -> e.txnId);

    private EventTimeOrder() {}

    /** The state of one step's waiting records (Flink-serialised, so any backend keeps it). */
    static <T> MapStateDescriptor<Long, List<T>> pendingState(TypeInformation<T> type) {
        return new MapStateDescriptor<>("pending-by-time", Types.LONG, new ListTypeInfo<>(type));
    }

    /** Keeps {@code record} until the timer of its event time {@code tsMs} (the caller's). */
    static <T> void hold(MapState<Long, List<T>> pending, long tsMs, T record) throws Exception {
        List<T> at = pending.get(tsMs);
        if (at == null) {
            at = new ArrayList<>(1);
        }
        at.add(record);
        pending.put(tsMs, at);
    }

    /**
     * Takes out of {@code pending} the records of event time {@code timerMs}, in processing
     * order. Called from the timer of each record's event time: Flink fires a key's timers in
     * time order, so a step's output is in event-time order too.
     */
    static <T> List<T> takeDue(MapState<Long, List<T>> pending, long timerMs, Comparator<T> order)
            throws Exception {
        List<T> due = pending.get(timerMs);
        if (due == null) {
            return List.of();
        }
        pending.remove(timerMs);
        if (due.size() > 1) {
            due.sort(order);
        }
        return due;
    }
}
