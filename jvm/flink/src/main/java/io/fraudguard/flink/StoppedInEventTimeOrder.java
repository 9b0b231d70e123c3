package io.fraudguard.flink;

import java.util.Comparator;
import java.util.List;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.api.java.tuple.Tuple3;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * The stopped decisions (would-be reviews and blocks) on their way to the exploration step, put
 * in processing order: event time, then transaction id, the order in which the offline path
 * ({@code fraudguard.backtest.decide.release_stopped}) applies the exposure caps. With several
 * decision subtasks their stopped decisions interleave as they happen to; the caps, and the
 * window a decision counts in, depend on the order, so each waits here (one key, the whole
 * job's exposure) until the watermark passes its event time. One already behind the watermark
 * (its payment was late) goes on at once.
 *
 * <p>A record is {@code (event time ms, txn_id, the decision as the Python side pickled it)};
 * the decision is passed on unread.
 */
public class StoppedInEventTimeOrder extends KeyedProcessFunction<
        String, Tuple3<Long, String, byte[]>, Tuple3<Long, String, byte[]>> {
    private static final long serialVersionUID = 1L;
    static final Comparator<Tuple3<Long, String, byte[]>> PROCESSING_ORDER =
            Comparator.comparingLong((Tuple3<Long, String, byte[]> t) -> t.f0)
                    .thenComparing(t -> t.f1);

    private final TypeInformation<Tuple3<Long, String, byte[]>> type;
    private transient MapState<Long, List<Tuple3<Long, String, byte[]>>> pending;

    /** {@code type}: the stream's own, so what waits is kept as the stream sends it. */
    public StoppedInEventTimeOrder(TypeInformation<Tuple3<Long, String, byte[]>> type) {
        this.type = type;
    }

    /** Every stopped decision under one key: the exposure caps are the whole job's. */
    public static class OneKey implements KeySelector<Tuple3<Long, String, byte[]>, String> {
        private static final long serialVersionUID = 1L;

        @Override
        public String getKey(Tuple3<Long, String, byte[]> stopped) {
            return "exposure";
        }
    }

    @Override
    public void open(OpenContext context) throws Exception {
        pending = getRuntimeContext().getMapState(EventTimeOrder.pendingState(type));
    }

    @Override
    public void processElement(
            Tuple3<Long, String, byte[]> stopped, Context ctx,
            Collector<Tuple3<Long, String, byte[]>> out) throws Exception {
        if (stopped.f0 > ctx.timerService().currentWatermark()) {
            EventTimeOrder.hold(pending, stopped.f0, stopped);
            ctx.timerService().registerEventTimeTimer(stopped.f0);
        } else {
            out.collect(stopped);
        }
    }

    @Override
    public void onTimer(
            long timestamp, OnTimerContext ctx, Collector<Tuple3<Long, String, byte[]>> out)
            throws Exception {
        for (Tuple3<Long, String, byte[]> stopped :
                EventTimeOrder.takeDue(pending, timestamp, PROCESSING_ORDER)) {
            out.collect(stopped);
        }
    }
}
