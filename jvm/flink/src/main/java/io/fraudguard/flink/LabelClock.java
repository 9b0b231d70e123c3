package io.fraudguard.flink;

import java.util.function.LongSupplier;
import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkOutput;

/**
 * The watermark status of the fraud labels, which join the payments before the keyed steps. The
 * labels hold the payments back only while a backlog of them is being read: at the start, until
 * the first label is read or {@code startMs} has passed (an empty topic costs that once), and
 * then while labels keep coming at most {@code quietMs} apart. After that the labels are idle,
 * for good: a label read later waits in the steps for the payments' watermark when it is ahead of
 * it, and is applied on arrival (late) when it is behind.
 *
 * <p>It never emits a watermark of its own. One would become the feature steps' watermark
 * whenever every payments partition is idle (Flink then takes the active inputs alone), and the
 * report times of labels have nothing to do with how far the payments have come: a topic of old
 * labels reported today would make a backfill of last month's payments late.
 */
public class LabelClock implements WatermarkGenerator<Enriched> {
    private final long startMs;
    private final long quietMs;
    private final LongSupplier clock;
    private final long startedAt;
    private long newestMs = Long.MIN_VALUE;
    private long lastLabelAt;
    private boolean idle;

    public LabelClock(long startMs, long quietMs) {
        this(startMs, quietMs, System::currentTimeMillis);
    }

    LabelClock(long startMs, long quietMs, LongSupplier clock) {
        this.startMs = startMs;
        this.quietMs = quietMs;
        this.clock = clock;
        this.startedAt = clock.getAsLong();
    }

    @Override
    public void onEvent(Enriched label, long timestamp, WatermarkOutput output) {
        newestMs = Math.max(newestMs, label.tsMs);
        lastLabelAt = clock.getAsLong();
    }

    @Override
    public void onPeriodicEmit(WatermarkOutput output) {
        long now = clock.getAsLong();
        boolean waited = newestMs == Long.MIN_VALUE
                ? now - startedAt >= startMs
                : now - lastLabelAt >= quietMs;
        if (waited) {
            idle = true;
        }
        if (idle) {
            output.markIdle(); // holds nothing back, and says so again after a label was read
        }
    }
}
