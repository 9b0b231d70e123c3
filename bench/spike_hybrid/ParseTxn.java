package spike;

import java.time.OffsetDateTime;
import java.util.Arrays;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.flink.types.Row;

/** A framed transaction to (txn_id, card, merchant, device, ts_ms, amount, features, value). */
public class ParseTxn implements MapFunction<byte[], Row> {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Override
  public Row map(byte[] framed) throws Exception {
    byte[] value = Arrays.copyOfRange(framed, 1, framed.length);
    JsonNode txn = JSON.readTree(value);
    JsonNode device = txn.get("device_id");
    long ts = OffsetDateTime.parse(txn.get("event_time").asText()).toInstant().toEpochMilli();
    return Row.of(
        txn.get("txn_id").asText(),
        txn.get("card_id").asText(),
        txn.get("merchant_id").asText(),
        device == null || device.isNull() ? "" : device.asText(),
        ts,
        txn.get("amount").asDouble(),
        new double[0],
        value);
  }
}
