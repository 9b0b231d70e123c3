package io.fraudguard.flink;

import java.util.List;
import org.apache.flink.api.common.operators.ProcessingTimeService.ProcessingTimeCallback;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.io.network.api.writer.ResultPartitionWriter;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus;

/**
 * The job's event clock, right behind the Kafka source, for the keyed feature steps that order
 * each entity's payments by event time (see {@link FeatureSteps}). It passes on the source's
 * watermarks (per partition: the newest record timestamp less the allowed disorder; the least
 * over the partitions that are not idle) and adds what the source cannot: when this reader has
 * had no record for a while, nothing it read is still in flight, so it emits the newest
 * timestamp it read, releasing every payment waiting in the steps, and marks itself idle until
 * the next record (downstream, Flink then takes the greatest watermark over its idle inputs).
 * The source's own watermark stops when all its partitions are idle, and the end of a burst
 * (or the one payment of a quiet minute) would wait for the next payment.
 *
 * <p>How long a while: {@code liveQuietMs} when the newest event is within
 * {@code liveLagMs} of the wall clock (the reader is live: a pause means no payments);
 * {@code quietMs} otherwise (catching up, a pause may be a fetch under way, and releasing
 * early would make another partition's payments late). Quiet is counted only while the
 * output takes records (backpressure is no pause of the stream), and only once the source
 * has reported: emitted a watermark, which it does once each of its partitions sent a record
 * or went idle, or reported all of them idle. A reader that has read nothing goes idle then.
 *
 * <p>The newest event time read is checkpointed (union state: after a restore every reader
 * starts from the greatest of them). The payments waiting in the steps at a checkpoint were read
 * before it, so none is newer than that; without it, a reader whose partitions hold nothing
 * after the checkpoint would never release them.
 */
public class EventClock<T> extends AbstractStreamOperator<T>
        implements OneInputStreamOperator<T, T>, ProcessingTimeCallback {
    private static final long serialVersionUID = 1L;
    private final long liveQuietMs;
    private final long liveLagMs;
    private final long quietMs;
    private final long intervalMs;

    private transient ListState<Long> newestState;
    private transient long emitted;
    private transient long newestMs;
    private transient boolean idle;
    private transient boolean sourceReported;
    // Processing time that passed while the output took records, its last reading, and its
    // value at the last record.
    private transient long takingMs;
    private transient long tickMs;
    private transient long lastRecordMs;

    public EventClock(long liveQuietMs, long liveLagMs, long quietMs, long intervalMs) {
        if (liveQuietMs < 1 || liveLagMs < 0 || quietMs < liveQuietMs || intervalMs < 1) {
            throw new IllegalArgumentException(
                    "1 <= liveQuietMs <= quietMs, liveLagMs >= 0, intervalMs >= 1");
        }
        this.liveQuietMs = liveQuietMs;
        this.liveLagMs = liveLagMs;
        this.quietMs = quietMs;
        this.intervalMs = intervalMs;
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        newestState = context.getOperatorStateStore().getUnionListState(
                new ListStateDescriptor<>("newest-read", Types.LONG));
        newestMs = Long.MIN_VALUE;
        for (Long restored : newestState.get()) {
            newestMs = Math.max(newestMs, restored);
        }
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        newestState.update(List.of(newestMs));
    }

    @Override
    public void open() throws Exception {
        super.open();
        emitted = Long.MIN_VALUE;
        tickMs = now();
        schedule();
    }

    private long now() {
        return getProcessingTimeService().getCurrentProcessingTime();
    }

    private void schedule() {
        getProcessingTimeService().registerTimer(now() + intervalMs, this);
    }

    @Override
    public void processElement(StreamRecord<T> element) throws Exception {
        if (element.hasTimestamp()) {
            newestMs = Math.max(newestMs, element.getTimestamp());
        }
        lastRecordMs = takingMs;
        if (idle) {
            idle = false;
            output.emitWatermarkStatus(WatermarkStatus.ACTIVE);
        }
        output.collect(element);
    }

    @Override
    public void processWatermark(Watermark mark) {
        sourceReported = true;
        if (!idle) {
            emit(mark.getTimestamp());
        }
    }

    /**
     * Idleness is this operator's own (the source's knows nothing of the quiet release); the
     * source going idle only says that it has reported.
     */
    @Override
    public void processWatermarkStatus(WatermarkStatus status) {
        if (status.isIdle()) {
            sourceReported = true;
        }
    }

    @Override
    public void onProcessingTime(long time) throws Exception {
        if (outputTakesRecords()) {
            takingMs += Math.max(0, time - tickMs);
        }
        tickMs = time;
        schedule();
        if (idle || !sourceReported) {
            return;
        }
        if (newestMs == Long.MIN_VALUE) { // nothing read: hold no one back
            idle = true;
            output.emitWatermarkStatus(WatermarkStatus.IDLE);
            return;
        }
        long quiet = newestMs >= time - liveLagMs ? liveQuietMs : quietMs;
        if (takingMs - lastRecordMs >= quiet) {
            emit(newestMs);
            idle = true;
            output.emitWatermarkStatus(WatermarkStatus.IDLE);
        }
    }

    private void emit(long watermarkMs) {
        if (watermarkMs > emitted) {
            emitted = watermarkMs;
            output.emitWatermark(new Watermark(watermarkMs));
        }
    }

    /** False while the output is backpressured (a full network buffer downstream). */
    private boolean outputTakesRecords() {
        for (ResultPartitionWriter writer : getContainingTask().getEnvironment().getAllWriters()) {
            if (!writer.isAvailable()) {
                return false;
            }
        }
        return true;
    }
}
