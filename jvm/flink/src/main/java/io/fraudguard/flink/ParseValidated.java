package io.fraudguard.flink;

import io.fraudguard.features.FeatureSpec;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * A transaction that Python's {@code parse_transaction} accepted, as its JSON (the fields of
 * {@code Transaction}, {@code ts_ms} included), to the record the feature steps read. Nothing is
 * validated here: validation has one definition, in Python, and ran before.
 */
public class ParseValidated extends RichMapFunction<byte[], Enriched> {
    private static final long serialVersionUID = 1L;
    private static final ObjectMapper JSON = new ObjectMapper();
    private final String specJson;
    private transient FeatureSpec spec;

    public ParseValidated(String specJson) {
        this.specJson = specJson;
    }

    @Override
    public void open(OpenContext context) throws Exception {
        spec = FeatureSpec.parse(specJson);
    }

    /** The transaction's JSON in a record (the whole record here). */
    protected byte[] document(byte[] record) {
        return record;
    }

    /** The transaction's event time in epoch milliseconds (validation wrote it as ts_ms). */
    protected long eventTimeMs(JsonNode txn) {
        return txn.get("ts_ms").asLong();
    }

    @Override
    public Enriched map(byte[] record) throws Exception {
        byte[] json = document(record);
        JsonNode txn = JSON.readTree(json);
        JsonNode device = txn.get("device_id");
        Enriched e = new Enriched();
        e.txnId = txn.get("txn_id").asText();
        e.tsMs = eventTimeMs(txn);
        e.cardId = txn.get("card_id").asText();
        e.merchantId = txn.get("merchant_id").asText();
        e.terminalId = txn.get("terminal_id").asText();
        e.deviceId = device == null || device.isNull() ? null : device.asText();
        e.amountEur = spec.toEur(txn.get("amount").asDouble(), txn.get("currency").asText());
        e.country = txn.get("country").asText();
        e.channel = txn.get("channel").asText();
        e.features = new double[spec.size()];
        e.json = json;
        return e;
    }
}
