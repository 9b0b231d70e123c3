package io.fraudguard.features;

/**
 * A fraud label as the features use it: the payment it names, with that payment's entities, and
 * when the bank learnt it. The kernel applies it in processing order: after the payments of its
 * own millisecond, so a payment sees only labels reported before its event time.
 */
public record FraudLabel(
        String txnId, long reportedMs, String cardId, String merchantId, String terminalId) {}
