package io.fraudguard.features;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The feature registry as written by {@code fraudguard.features.spec.feature_spec()}: the
 * declarations in model order, their names, the bucket widths and the euro rates. Nothing here
 * is typed twice; the kernel builds its plans from these declarations.
 */
public final class FeatureSpec {
    /** One declaration: a window aggregate, a comparison with history, or a transaction field. */
    public record Declaration(
            String name, String type, String entity, String agg, String column, long windowMs,
            String kind) {}

    public final String version;
    public final List<String> names;
    public final List<Declaration> features;
    public final TreeMap<Long, Long> bucketMs;
    public final long historyMs;
    /** The width of the buckets a label-fed fraud rate counts payments in. */
    public final long labelBucketMs;
    public final double noPrevious;
    public final Map<String, Double> eurRates;

    FeatureSpec(JsonNode root) {
        version = root.path("version").asText();
        names = new ArrayList<>();
        root.get("names").forEach(n -> names.add(n.asText()));
        features = new ArrayList<>();
        for (JsonNode f : root.get("features")) {
            features.add(new Declaration(
                    f.get("name").asText(), f.get("type").asText(), f.get("entity").asText(),
                    f.path("agg").asText(null), f.path("column").asText(null),
                    f.path("window_ms").asLong(0), f.path("kind").asText(null)));
        }
        bucketMs = new TreeMap<>();
        root.get("bucket_ms").fields().forEachRemaining(
                e -> bucketMs.put(Long.parseLong(e.getKey()), e.getValue().asLong()));
        historyMs = root.get("history_ms").asLong();
        labelBucketMs = root.path("label_bucket_ms").asLong(3_600_000L);
        noPrevious = root.get("no_previous").asDouble();
        eurRates = new HashMap<>();
        root.get("eur_rates").fields().forEachRemaining(
                e -> eurRates.put(e.getKey(), e.getValue().asDouble()));
        for (int i = 0; i < features.size(); i++) {
            if (!features.get(i).name().equals(names.get(i))) {
                throw new IllegalArgumentException("feature " + i + " is not named " + names.get(i));
            }
        }
    }

    public static FeatureSpec parse(String json) throws IOException {
        return new FeatureSpec(new ObjectMapper().readTree(json));
    }

    public static FeatureSpec read(Path path) throws IOException {
        return parse(Files.readString(path));
    }

    /** {@code amount} of {@code currency} in euro, rounded to the cent, as {@code to_eur}. */
    public double toEur(double amount, String currency) {
        Double rate = eurRates.get(currency);
        if (rate == null) {
            throw new IllegalArgumentException("no euro rate for " + currency);
        }
        return PyMath.round(amount / rate, 2);
    }

    public int size() {
        return names.size();
    }
}
