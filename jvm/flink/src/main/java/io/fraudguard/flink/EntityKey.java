package io.fraudguard.flink;

import org.apache.flink.api.java.functions.KeySelector;

/** Keys a transaction by its card, merchant or device (no device: the empty key). */
public class EntityKey implements KeySelector<Enriched, String> {
    private static final long serialVersionUID = 1L;
    private final String entity;

    public EntityKey(String entity) {
        if (!entity.equals("card") && !entity.equals("merchant") && !entity.equals("device")) {
            throw new IllegalArgumentException("no key for entity " + entity);
        }
        this.entity = entity;
    }

    @Override
    public String getKey(Enriched e) {
        return switch (entity) {
            case "card" -> e.cardId;
            case "merchant" -> e.merchantId;
            default -> e.deviceId == null ? "" : e.deviceId;
        };
    }
}
