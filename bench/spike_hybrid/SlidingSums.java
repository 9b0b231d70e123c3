package spike;

import java.util.Arrays;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.types.Row;
import org.apache.flink.util.Collector;

/**
 * Stand-in for one entity's window kernel: the key's events of the longest horizon, with an
 * exact count and sum per horizon kept incrementally (one pointer per horizon). It appends
 * {@code 2 * horizons + extra} values to the row's feature array; the extra values repeat the
 * sums, so the row carries as many values as the real entity's features. Not the feature set:
 * no distinct counts, no maxima, no buckets.
 */
public class SlidingSums extends KeyedProcessFunction<String, Row, Row> {
  private final long[] horizonsMs;
  private final int extra;
  private transient ValueState<Events> state;

  public SlidingSums(long[] horizonsMs, int extra) {
    this.horizonsMs = horizonsMs;
    this.extra = extra;
  }

  /** The key's events (oldest first) and, per horizon, where its window starts and its sums. */
  public static class Events {
    public long[] ts = new long[8];
    public double[] amount = new double[8];
    public int size;
    public int[] start;
    public double[] sum;
  }

  @Override
  public void open(OpenContext context) {
    state = getRuntimeContext().getState(new ValueStateDescriptor<>("events", TypeInformation.of(Events.class)));
  }

  @Override
  public void processElement(Row row, Context ctx, Collector<Row> out) throws Exception {
    Events e = state.value();
    if (e == null) {
      e = new Events();
      e.start = new int[horizonsMs.length];
      e.sum = new double[horizonsMs.length];
    }
    long ts = (Long) row.getField(4);
    double amount = (Double) row.getField(5);
    if (e.size == e.ts.length) {
      int drop = e.start[e.start.length - 1]; // events older than the longest horizon
      int keep = e.size - drop;
      int capacity = Math.max(8, keep * 2);
      long[] ts2 = new long[capacity];
      double[] amount2 = new double[capacity];
      System.arraycopy(e.ts, drop, ts2, 0, keep);
      System.arraycopy(e.amount, drop, amount2, 0, keep);
      e.ts = ts2;
      e.amount = amount2;
      e.size = keep;
      for (int h = 0; h < e.start.length; h++) e.start[h] -= drop;
    }
    e.ts[e.size] = ts;
    e.amount[e.size] = amount;
    e.size++;
    double[] values = new double[2 * horizonsMs.length + extra];
    for (int h = 0; h < horizonsMs.length; h++) {
      e.sum[h] += amount;
      while (e.ts[e.start[h]] <= ts - horizonsMs[h]) {
        e.sum[h] -= e.amount[e.start[h]];
        e.start[h]++;
      }
      values[2 * h] = e.size - e.start[h];
      values[2 * h + 1] = e.sum[h];
    }
    for (int i = 0; i < extra; i++) values[2 * horizonsMs.length + i] = e.sum[i % horizonsMs.length];
    state.update(e);
    Object before = row.getField(6);
    double[] features = before instanceof double[] ? (double[]) before : new double[0];
    double[] joined = Arrays.copyOf(features, features.length + values.length);
    System.arraycopy(values, 0, joined, features.length, values.length);
    Row next = Row.copy(row);
    next.setField(6, joined);
    out.collect(next);
  }
}
