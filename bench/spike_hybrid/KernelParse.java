package spike;

import io.fraudguard.features.FeatureSpec;
import java.time.OffsetDateTime;
import java.util.Arrays;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.flink.types.Row;

/**
 * A framed transaction to the row the real kernels read: (txn_id, card, merchant, device,
 * ts_ms, amount in euro, features, value, terminal, country, channel). No validation: the
 * spike's input is all valid.
 */
public class KernelParse extends RichMapFunction<byte[], Row> {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final String specJson;
  private final boolean validated;
  private transient FeatureSpec spec;

  /** {@code validated}: the bytes are a validated transaction's JSON, {@code ts_ms} included. */
  public KernelParse(String specJson, boolean validated) {
    this.specJson = specJson;
    this.validated = validated;
  }

  @Override
  public void open(OpenContext context) throws Exception {
    spec = FeatureSpec.parse(specJson);
  }

  @Override
  public Row map(byte[] framed) throws Exception {
    byte[] value = validated ? framed : Arrays.copyOfRange(framed, 1, framed.length);
    JsonNode txn = JSON.readTree(value);
    JsonNode device = txn.get("device_id");
    long ts = validated
        ? txn.get("ts_ms").asLong()
        : OffsetDateTime.parse(txn.get("event_time").asText()).toInstant().toEpochMilli();
    return Row.of(
        txn.get("txn_id").asText(),
        txn.get("card_id").asText(),
        txn.get("merchant_id").asText(),
        device == null || device.isNull() ? "" : device.asText(),
        ts,
        spec.toEur(txn.get("amount").asDouble(), txn.get("currency").asText()),
        new double[spec.size()],
        value,
        txn.get("terminal_id").asText(),
        txn.get("country").asText(),
        txn.get("channel").asText());
  }
}
