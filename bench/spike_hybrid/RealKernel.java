package spike;

import io.fraudguard.features.BucketWindows;
import io.fraudguard.features.FeatureKernel;
import io.fraudguard.features.FeatureSpec;
import io.fraudguard.features.LastSeen;
import io.fraudguard.features.RawEvents;
import io.fraudguard.features.Txn;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.types.Row;
import org.apache.flink.util.Collector;

/**
 * One entity's step of the real feature kernel ({@code io.fraudguard.features}) in a keyed
 * operator, writing that entity's features into the row's array. States are kept as objects
 * in the heap state backend (Kryo at checkpoints). Not the job: the last-seen map state has no
 * expiry here.
 */
public class RealKernel extends KeyedProcessFunction<String, Row, Row> {
  private final String specJson;
  private final String entity;
  private final long dedupeTtlMs;
  private transient FeatureKernel kernel;
  private transient ValueState<Object> state;
  private transient MapState<String, BucketWindows> terminals;
  private transient MapState<String, Long> lastSeen;

  public RealKernel(String specJson, String entity, long dedupeTtlMs) {
    this.specJson = specJson;
    this.entity = entity;
    this.dedupeTtlMs = dedupeTtlMs;
  }

  @Override
  public void open(OpenContext context) throws Exception {
    kernel = new FeatureKernel(FeatureSpec.parse(specJson));
    state = getRuntimeContext().getState(
        new ValueStateDescriptor<>(entity, TypeInformation.of(Object.class)));
    if (entity.equals("merchant")) {
      terminals = getRuntimeContext().getMapState(new MapStateDescriptor<>(
          "terminals", Types.STRING, TypeInformation.of(BucketWindows.class)));
      lastSeen = getRuntimeContext().getMapState(
          new MapStateDescriptor<>("last-seen", Types.STRING, Types.LONG));
    }
  }

  /** The last-seen map lives in map state, as in the job (FeatureSteps.Merchant). */
  private LastSeen view(String prefix) {
    return new LastSeen() {
      @Override
      public Long get(String key) throws Exception {
        return lastSeen.get(prefix + key);
      }

      @Override
      public void put(String key, long tsMs) throws Exception {
        lastSeen.put(prefix + key, tsMs);
      }
    };
  }

  static Txn txn(Row row) {
    String device = (String) row.getField(3);
    return new Txn((String) row.getField(0), (Long) row.getField(4), (String) row.getField(1),
        (String) row.getField(2), (String) row.getField(8), (Double) row.getField(5),
        (String) row.getField(9), (String) row.getField(10), device.isEmpty() ? null : device);
  }

  @Override
  public void processElement(Row row, Context ctx, Collector<Row> out) throws Exception {
    Txn txn = txn(row);
    double[] features = (double[]) row.getField(6);
    switch (entity) {
      case "card" -> {
        FeatureKernel.CardState card = (FeatureKernel.CardState) state.value();
        if (card == null) {
          card = kernel.newCardState(dedupeTtlMs);
        }
        boolean first = kernel.card(card, txn, features);
        state.update(card);
        if (!first) {
          return; // a retried id: answered already
        }
      }
      case "merchant" -> {
        BucketWindows merchant = (BucketWindows) state.value();
        if (merchant == null) {
          merchant = kernel.newMerchantState(null);
        }
        merchant.lastSeen = view("m:");
        kernel.merchant(merchant, txn, features);
        state.update(merchant);
        BucketWindows terminal = terminals.get(txn.terminalId());
        if (terminal == null) {
          terminal = kernel.newTerminalState(null);
        }
        terminal.lastSeen = view("t:" + txn.terminalId() + ":");
        kernel.terminal(terminal, txn, features);
        terminals.put(txn.terminalId(), terminal);
      }
      default -> {
        RawEvents device = txn.deviceId() == null ? null : (RawEvents) state.value();
        if (device == null && txn.deviceId() != null) {
          device = kernel.newDeviceState();
        }
        kernel.device(device, txn, features);
        if (device != null) {
          state.update(device);
        }
      }
    }
    out.collect(row);
  }
}
