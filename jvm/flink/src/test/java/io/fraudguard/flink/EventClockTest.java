package io.fraudguard.flink;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/** The event clock passes the source's watermarks on and releases a quiet reader. */
class EventClockTest {
    private static final long LIVE_QUIET = 200;
    private static final long LIVE_LAG = 1_000;
    private static final long QUIET = 5_000;
    private static final long INTERVAL = 20;

    private static OneInputStreamOperatorTestHarness<byte[], byte[]> clock() throws Exception {
        return clock(null);
    }

    private static OneInputStreamOperatorTestHarness<byte[], byte[]> clock(
            OperatorSubtaskState restored) throws Exception {
        var harness = new OneInputStreamOperatorTestHarness<>(
                new EventClock<byte[]>(LIVE_QUIET, LIVE_LAG, QUIET, INTERVAL));
        harness.setProcessingTime(0);
        if (restored != null) {
            harness.initializeState(restored);
        }
        harness.open();
        return harness;
    }

    /** The watermarks and idleness changes emitted so far, as text; the output emptied. */
    private static List<String> marks(OneInputStreamOperatorTestHarness<byte[], byte[]> h) {
        List<String> marks = new ArrayList<>();
        for (Object o : h.getOutput()) {
            if (o instanceof Watermark w) {
                marks.add("wm " + w.getTimestamp());
            } else if (o instanceof WatermarkStatus s) {
                marks.add(s.isIdle() ? "idle" : "active");
            }
        }
        h.getOutput().clear();
        return marks;
    }

    private static void advance(OneInputStreamOperatorTestHarness<byte[], byte[]> h, long toMs)
            throws Exception {
        for (long t = h.getProcessingTime() + INTERVAL; t <= toMs; t += INTERVAL) {
            h.setProcessingTime(t);
        }
    }

    @Test
    void aLiveReaderQuietForAWhileReleasesItsNewestEvent() throws Exception {
        try (var h = clock()) {
            h.processElement(new StreamRecord<>(new byte[] {1}, 900));
            h.processElement(new StreamRecord<>(new byte[] {1}, 950));
            h.processWatermark(new Watermark(700)); // the source: 950 less its disorder
            assertEquals(2, h.extractOutputValues().size(), "every record passes");
            assertEquals(List.of("wm 700"), marks(h));
            advance(h, LIVE_QUIET - INTERVAL);
            assertEquals(List.of(), marks(h), "not quiet long enough");
            advance(h, LIVE_QUIET + INTERVAL);
            assertEquals(List.of("wm 950", "idle"), marks(h));
            h.processElement(new StreamRecord<>(new byte[] {1}, 1_300));
            assertEquals(List.of("active"), marks(h));
        }
    }

    @Test
    void aReaderCatchingUpWaitsLongerBeforeItReleases() throws Exception {
        try (var h = clock()) {
            h.processElement(new StreamRecord<>(new byte[] {1}, -60_000)); // a minute behind
            h.processWatermark(new Watermark(-60_200));
            marks(h);
            advance(h, QUIET - INTERVAL);
            assertEquals(List.of(), marks(h), "a fetch may be under way");
            advance(h, QUIET + INTERVAL);
            assertEquals(List.of("wm -60000", "idle"), marks(h));
        }
    }

    @Test
    void nothingIsReleasedBeforeTheSourceReportedEveryPartition() throws Exception {
        try (var h = clock()) {
            h.processElement(new StreamRecord<>(new byte[] {1}, 100));
            advance(h, 3 * QUIET);
            assertEquals(List.of(), marks(h), "another partition has not sent yet");
        }
    }

    @Test
    void aReaderThatReadNothingGoesIdleOnceTheSourceIsIdle() throws Exception {
        try (var h = clock()) {
            advance(h, 3 * QUIET);
            assertEquals(List.of(), marks(h), "the source has not reported yet");
            h.processWatermarkStatus(WatermarkStatus.IDLE);
            advance(h, h.getProcessingTime() + INTERVAL);
            assertEquals(List.of("idle"), marks(h), "nothing to release, no one held back");
        }
    }

    @Test
    void afterARestoreTheNewestEventReadBeforeTheCheckpointIsReleased() throws Exception {
        OperatorSubtaskState snapshot;
        try (var h = clock()) {
            h.processElement(new StreamRecord<>(new byte[] {1}, -60_000));
            h.processWatermark(new Watermark(-60_200));
            snapshot = h.snapshot(1, 0);
        }
        // Its partitions hold nothing after the checkpoint: the source only reports them idle.
        try (var h = clock(snapshot)) {
            h.processWatermarkStatus(WatermarkStatus.IDLE);
            advance(h, QUIET - INTERVAL);
            assertEquals(List.of(), marks(h), "a fetch may be under way");
            advance(h, QUIET + INTERVAL);
            assertEquals(List.of("wm -60000", "idle"), marks(h));
        }
    }
}
