package io.fraudguard.flink;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.common.eventtime.WatermarkOutput;
import org.junit.jupiter.api.Test;

class LabelClockTest {
    /** What the generator said, in order: a watermark's time, or "idle". */
    static final class Said implements WatermarkOutput {
        final List<String> said = new ArrayList<>();

        @Override
        public void emitWatermark(Watermark watermark) {
            said.add(Long.toString(watermark.getTimestamp()));
        }

        @Override
        public void markIdle() {
            said.add("idle");
        }

        @Override
        public void markActive() {}

        String last() {
            return said.isEmpty() ? "nothing" : said.get(said.size() - 1);
        }
    }

    private static Enriched label(long reportedMs) {
        return Enriched.fraudLabel("t", reportedMs, "c", "m", "m-t");
    }

    @Test
    void holds_the_payments_at_the_start_until_a_label_or_the_start_wait() {
        long[] now = {1_000};
        LabelClock clock = new LabelClock(5_000, 200, () -> now[0]);
        Said out = new Said();
        now[0] += 4_999;
        clock.onPeriodicEmit(out);
        assertEquals("nothing", out.last()); // neither idle nor a watermark: payments wait
        now[0] += 1;
        clock.onPeriodicEmit(out);
        assertEquals("idle", out.last()); // an empty topic costs the wait once
    }

    @Test
    void follows_a_burst_of_labels_then_goes_idle_until_the_next() {
        long[] now = {1_000};
        LabelClock clock = new LabelClock(5_000, 200, () -> now[0]);
        Said out = new Said();
        clock.onEvent(label(700), 700, out);
        clock.onEvent(label(900), 900, out);
        clock.onEvent(label(800), 800, out);
        now[0] += 199;
        clock.onPeriodicEmit(out);
        assertEquals("899", out.last()); // another label of 900 may follow
        now[0] += 1;
        clock.onPeriodicEmit(out);
        assertEquals("idle", out.last());
        clock.onEvent(label(5_000), 5_000, out);
        clock.onPeriodicEmit(out);
        assertEquals("4999", out.last());
    }
}
