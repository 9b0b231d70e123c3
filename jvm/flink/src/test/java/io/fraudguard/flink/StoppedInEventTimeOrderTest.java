package io.fraudguard.flink;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.typeinfo.TypeHint;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.tuple.Tuple3;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/** Stopped decisions reach the exploration step in processing order, whatever their arrival. */
class StoppedInEventTimeOrderTest {
    private static final TypeInformation<Tuple3<Long, String, byte[]>> TYPE =
            TypeInformation.of(new TypeHint<Tuple3<Long, String, byte[]>>() {});

    private static KeyedOneInputStreamOperatorTestHarness<
                    String, Tuple3<Long, String, byte[]>, Tuple3<Long, String, byte[]>>
            harness() throws Exception {
        var h = new KeyedOneInputStreamOperatorTestHarness<>(
                new KeyedProcessOperator<>(new StoppedInEventTimeOrder(TYPE)),
                new StoppedInEventTimeOrder.OneKey(), TypeInformation.of(String.class));
        h.open();
        return h;
    }

    private static void send(
            KeyedOneInputStreamOperatorTestHarness<
                            String, Tuple3<Long, String, byte[]>, Tuple3<Long, String, byte[]>> h,
            long tsMs, String txnId) throws Exception {
        h.processElement(new StreamRecord<>(Tuple3.of(tsMs, txnId, new byte[] {7}), tsMs));
    }

    private static List<String> released(
            KeyedOneInputStreamOperatorTestHarness<
                            String, Tuple3<Long, String, byte[]>, Tuple3<Long, String, byte[]>> h) {
        List<String> ids = new ArrayList<>();
        for (Tuple3<Long, String, byte[]> t : h.extractOutputValues()) {
            ids.add(t.f1);
        }
        h.getOutput().clear();
        return ids;
    }

    @Test
    void twoSubtasksInterleavedComeOutInEventTimeThenIdOrder() throws Exception {
        try (var h = harness()) {
            // What two decision subtasks sent, each in its own order, interleaved.
            send(h, 30, "c");
            send(h, 10, "b");
            send(h, 20, "x");
            send(h, 10, "a");
            send(h, 40, "late-enough");
            assertEquals(List.of(), released(h), "nothing before the watermark");
            h.processWatermark(30);
            assertEquals(List.of("a", "b", "x", "c"), released(h));
            h.processWatermark(Long.MAX_VALUE);
            assertEquals(List.of("late-enough"), released(h));
        }
    }

    @Test
    void aStoppedDecisionBehindTheWatermarkGoesOnAtOnce() throws Exception {
        try (var h = harness()) {
            h.processWatermark(100);
            send(h, 50, "late");
            send(h, 150, "waits");
            assertEquals(List.of("late"), released(h));
            h.processWatermark(150);
            assertEquals(List.of("waits"), released(h));
        }
    }

    @Test
    void theDecisionItselfPassesUnread() throws Exception {
        try (var h = harness()) {
            byte[] pickled = {(byte) 0x80, 5, 1, 2, 3};
            h.processElement(new StreamRecord<>(Tuple3.of(5L, "p", pickled), 5));
            h.processWatermark(5);
            List<Tuple3<Long, String, byte[]>> out = h.extractOutputValues();
            assertEquals(1, out.size());
            assertArrayEquals(pickled, out.get(0).f2);
        }
    }
}
