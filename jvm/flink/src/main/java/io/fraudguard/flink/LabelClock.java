package io.fraudguard.flink;

import java.util.function.LongSupplier;
import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkOutput;

/**
 * The watermark of the fraud labels, whose event time is when they were reported. The labels
 * join the payments before the keyed steps, so their watermark holds the payments back: only as
 * long as a label still on its way could be one a payment must see.
 *
 * <ul>
 *   <li>At the start, until the first label is read or {@code startMs} has passed: a backlog of
 *       labels is read before the payments behind it are decided (an empty topic costs the
 *       wait once).
 *   <li>While labels keep coming (none {@code quietMs} apart): the newest report time, less a
 *       millisecond (another label of that time may follow).
 *   <li>Then idle until the next label: a label is rare, and the payments must not wait for the
 *       next one. A label that arrives behind the payments' watermark is applied on arrival
 *       and marked late.
 * </ul>
 */
public class LabelClock implements WatermarkGenerator<Enriched> {
    private final long startMs;
    private final long quietMs;
    private final LongSupplier clock;
    private final long startedAt;
    private long newestMs = Long.MIN_VALUE;
    private long lastLabelAt;

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
        if (newestMs == Long.MIN_VALUE) {
            if (now - startedAt >= startMs) {
                output.markIdle();
            }
        } else if (now - lastLabelAt >= quietMs) {
            output.markIdle();
        } else {
            output.emitWatermark(new Watermark(newestMs - 1));
        }
    }
}
