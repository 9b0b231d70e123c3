package io.fraudguard.flink;

import io.fraudguard.features.FeatureKernel;
import io.fraudguard.features.Txn;

/**
 * A validated transaction on its way through the three keyed feature steps: what the kernels
 * read, the features filled in so far (registry order), whether it came late anywhere, and the
 * validated transaction's JSON for the decision. A Flink POJO, so the shuffles between the steps
 * use Flink's own serializer.
 *
 * <p>A fraud label travels the same way ({@link #label}): its payment's id and entities, and
 * {@code tsMs} the time it was reported; each step keeps it in its entity's state, in event-time
 * order among the payments, and the device step, the last, lets it go no further.
 */
public class Enriched {
    public String txnId;
    public long tsMs;
    public String cardId;
    public String merchantId;
    public String terminalId;
    public String deviceId; // null: a payment without a device
    public double amountEur;
    public String country;
    public String channel;
    public double[] features;
    public boolean late;
    // The card's previous sighting at this merchant and at this terminal (FeatureKernel.NEVER:
    // none), from the card step's history, for the merchant step's distinct-card counts.
    public long seenAtMerchantMs = FeatureKernel.NEVER;
    public long seenAtTerminalMs = FeatureKernel.NEVER;
    public byte[] json;
    public boolean label;

    public Enriched() {}

    /** A fraud label of payment {@code txnId} with its entities, reported at {@code reportedMs}. */
    public static Enriched fraudLabel(
            String txnId, long reportedMs, String cardId, String merchantId, String terminalId) {
        Enriched e = new Enriched();
        e.label = true;
        e.txnId = txnId;
        e.tsMs = reportedMs;
        e.cardId = cardId;
        e.merchantId = merchantId;
        e.terminalId = terminalId;
        e.features = new double[0];
        return e;
    }

    public Txn txn() {
        return new Txn(txnId, tsMs, cardId, merchantId, terminalId, amountEur, country, channel,
                deviceId);
    }
}
