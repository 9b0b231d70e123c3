package io.fraudguard.features;

/**
 * A validated transaction, as the kernel needs it. {@code amountEur} is the amount converted
 * with the spec's reference rates (see {@link FeatureSpec#toEur}); {@code deviceId} may be null.
 */
public record Txn(
        String txnId,
        long tsMs,
        String cardId,
        String merchantId,
        String terminalId,
        double amountEur,
        String country,
        String channel,
        String deviceId) {}
