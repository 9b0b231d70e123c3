package io.fraudguard.features;

import java.util.HashMap;
import java.util.Map;

/**
 * When each card was last seen at a merchant or terminal: a map in the offline path. The job
 * looks each sighting up in a step of its own, keyed by merchant and card, and hands the merchant
 * step the answer ({@link #lookedUp}).
 */
public interface LastSeen {
    /** The event time {@code key} was last seen, or null. */
    Long get(String key) throws Exception;

    void put(String key, long tsMs) throws Exception;

    /** A plain in-memory map. */
    static LastSeen inMemory() {
        return of(new HashMap<>());
    }

    /**
     * The one answer already looked up for the event at hand (null: never seen); recording is
     * left to whoever looked it up.
     */
    static LastSeen lookedUp(Long previous) {
        return new LastSeen() {
            @Override
            public Long get(String key) {
                return previous;
            }

            @Override
            public void put(String key, long tsMs) {}
        };
    }

    /** A view of {@code map}. */
    static LastSeen of(Map<String, Long> map) {
        return new LastSeen() {
            @Override
            public Long get(String key) {
                return map.get(key);
            }

            @Override
            public void put(String key, long tsMs) {
                map.put(key, tsMs);
            }
        };
    }
}
