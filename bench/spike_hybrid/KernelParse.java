package spike;

import io.fraudguard.flink.ParseValidated;
import java.time.OffsetDateTime;
import java.util.Arrays;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;

/**
 * The job's {@link ParseValidated} fed raw framed records from Kafka instead of validated JSON:
 * the spike's Java-parsing variants. No validation: the spike's input is all valid.
 */
public class KernelParse extends ParseValidated {
  public KernelParse(String specJson) {
    super(specJson);
  }

  @Override
  protected byte[] document(byte[] framed) {
    return Arrays.copyOfRange(framed, 1, framed.length);
  }

  @Override
  protected long eventTimeMs(JsonNode txn) {
    return OffsetDateTime.parse(txn.get("event_time").asText()).toInstant().toEpochMilli();
  }
}
