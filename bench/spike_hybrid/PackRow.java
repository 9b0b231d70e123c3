package spike;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.types.Row;

/** Features and transaction in one byte array: int32 n, n float64 (little-endian), JSON. */
public class PackRow implements MapFunction<Row, byte[]> {
  @Override
  public byte[] map(Row row) {
    double[] features = (double[]) row.getField(6);
    byte[] value = (byte[]) row.getField(7);
    ByteBuffer packed = ByteBuffer.allocate(4 + 8 * features.length + value.length).order(ByteOrder.LITTLE_ENDIAN);
    packed.putInt(features.length);
    for (double f : features) packed.putDouble(f);
    packed.put(value);
    return packed.array();
  }
}
