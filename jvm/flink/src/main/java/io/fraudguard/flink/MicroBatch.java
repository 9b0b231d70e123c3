package io.fraudguard.flink;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import org.apache.flink.api.common.operators.ProcessingTimeService.ProcessingTimeCallback;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus;

/**
 * Packs up to {@code maxRecords} byte arrays into one (int32 length before each, big-endian),
 * so the Python operator behind it pays its per-record bridge cost once per batch. A batch
 * leaves when full, after {@code maxDelayMs}, and always before a checkpoint barrier
 * ({@code prepareSnapshotPreBarrier}), so no record sits in memory across a checkpoint.
 *
 * <p>A watermark waits for the batch being filled and leaves right behind it, never before a
 * record it has passed (downstream that record would be behind the watermark, so late); a change
 * of idleness sends the batch first.
 */
public class MicroBatch extends AbstractStreamOperator<byte[]>
    implements OneInputStreamOperator<byte[], byte[]>, ProcessingTimeCallback {
  private static final long serialVersionUID = 1L;
  private final int maxRecords;
  private final long maxDelayMs;
  private transient ByteArrayOutputStream bytes;
  private transient DataOutputStream out;
  private transient int count;
  private transient boolean timerSet;
  private transient Watermark held;

  public MicroBatch(int maxRecords, long maxDelayMs) {
    this.maxRecords = maxRecords;
    this.maxDelayMs = maxDelayMs;
  }

  @Override
  public void open() throws Exception {
    super.open();
    bytes = new ByteArrayOutputStream(1 << 16);
    out = new DataOutputStream(bytes);
  }

  @Override
  public void processElement(StreamRecord<byte[]> element) throws Exception {
    byte[] value = element.getValue();
    out.writeInt(value.length);
    out.write(value);
    if (++count >= maxRecords) {
      flush();
    } else if (!timerSet) {
      timerSet = true;
      getProcessingTimeService()
          .registerTimer(getProcessingTimeService().getCurrentProcessingTime() + maxDelayMs, this);
    }
  }

  @Override
  public void processWatermark(Watermark mark) throws Exception {
    if (count == 0) {
      super.processWatermark(mark);
    } else {
      held = mark;
    }
  }

  @Override
  public void processWatermarkStatus(WatermarkStatus status) throws Exception {
    flush();
    super.processWatermarkStatus(status);
  }

  @Override
  public void onProcessingTime(long time) throws Exception {
    timerSet = false;
    flush();
  }

  @Override
  public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
    flush();
  }

  @Override
  public void finish() throws Exception {
    flush();
    super.finish();
  }

  private void flush() throws Exception {
    if (count == 0) {
      return;
    }
    out.flush();
    output.collect(new StreamRecord<>(bytes.toByteArray()));
    bytes.reset();
    count = 0;
    if (held != null) {
      Watermark mark = held;
      held = null;
      super.processWatermark(mark);
    }
  }
}
