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
    void holds_while_a_backlog_is_read_then_idles_for_good_and_never_emits_a_watermark() {
        long[] now = {1_000};
        LabelClock clock = new LabelClock(5_000, 200, () -> now[0]);
        Said out = new Said();
        clock.onEvent(label(700), 700, out);
        now[0] += 150;
        clock.onEvent(label(900), 900, out);
        now[0] += 199;
        clock.onPeriodicEmit(out);
        assertEquals("nothing", out.last()); // labels still coming: the payments wait
        now[0] += 1;
        clock.onPeriodicEmit(out);
        assertEquals("idle", out.last());
        clock.onEvent(label(5_000), 5_000, out); // a label later on holds nothing back
        clock.onPeriodicEmit(out);
        assertEquals("idle", out.last());
        assertEquals(List.of("idle", "idle"), out.said);
    }
}
