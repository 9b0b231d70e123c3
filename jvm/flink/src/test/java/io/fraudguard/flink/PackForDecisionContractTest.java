package io.fraudguard.flink;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The job packs a transaction for the Python decision byte for byte as the contract's golden
 * records (contracts/packed-decision.json), which the Python side reads back.
 */
class PackForDecisionContractTest {
    private static final String LAYOUT = "{\"pointer_file\": \"champion.json\", \"metadata_file\":"
            + " \"metadata.json\", \"trees_file\": \"trees.json\", \"version_pattern\":"
            + " \"[A-Za-z0-9][A-Za-z0-9._-]{0,127}\", \"trees_format\": \"fraudguard-trees-1\"}";

    static Path contract(String name) {
        return Path.of(System.getProperty("fraudguard.contracts"), name);
    }

    /**
     * A registry whose champion {@code version} (and challenger {@code shadow}, if not null) is
     * the contract's golden trees.
     */
    private static Path registry(Path root, String version, String shadow) throws Exception {
        for (String name : shadow == null ? new String[] {version} : new String[] {version, shadow}) {
            Path model = root.resolve(name);
            if (Files.exists(model)) {
                continue;
            }
            Files.createDirectories(model);
            Files.copy(contract("trees.json"), model.resolve("trees.json"));
            JsonNode cases = new ObjectMapper().readTree(contract("trees-cases.json").toFile());
            Files.writeString(model.resolve("metadata.json"),
                    "{\"feature_names\": " + cases.get("model_features") + "}");
        }
        Files.writeString(root.resolve("champion.json"), "{\"champion\": \"" + version + "\""
                + (shadow == null ? "" : ", \"challenger\": \"" + shadow + "\"") + "}");
        return root;
    }

    @Test
    void packedRecordsAreTheGoldenBytes(@TempDir Path root) throws Exception {
        String spec = Files.readString(contract("feature-spec.json"));
        JsonNode golden = new ObjectMapper().readTree(contract("packed-decision.json").toFile());
        for (JsonNode record : golden.get("records")) {
            String version = record.get("model_version").isNull() ? null
                    : record.get("model_version").asText();
            String shadow = record.get("challenger_version").isNull() ? null
                    : record.get("challenger_version").asText();
            PackForDecision pack = new PackForDecision(
                    version == null ? null : registry(root, version, shadow).toString(), LAYOUT,
                    spec, 0);
            pack.open(null);
            Enriched e = new Enriched();
            JsonNode features = record.get("features");
            e.features = new double[features.size()];
            for (int i = 0; i < e.features.length; i++) {
                e.features[i] = features.get(i).isNull() ? Double.NaN : features.get(i).asDouble();
            }
            e.late = record.get("late").asBoolean();
            e.json = record.get("transaction_json").asText().getBytes(StandardCharsets.UTF_8);
            byte[] packed = pack.map(e);

            String name = record.get("case").asText();
            String featuresJson = new String(pack.featuresJson(e.features), StandardCharsets.US_ASCII);
            double score = ByteBuffer.wrap(packed).order(ByteOrder.LITTLE_ENDIAN)
                    .getDouble(4 + 8 * e.features.length + 1);
            JsonNode want = record.get("score");
            assertEquals(record.get("features_json").asText(), featuresJson, name + ": features JSON");
            assertEquals(want.isNull() ? Double.NaN : want.asDouble(), score, name + ": score");
            int versionLength = packed[4 + 8 * e.features.length + 1 + 8];
            double shadowScore = ByteBuffer.wrap(packed).order(ByteOrder.LITTLE_ENDIAN)
                    .getDouble(4 + 8 * e.features.length + 1 + 8 + 1 + versionLength);
            JsonNode wantShadow = record.get("challenger_score");
            assertEquals(wantShadow.isNull() ? Double.NaN : wantShadow.asDouble(), shadowScore,
                    name + ": challenger score");
            assertEquals(record.get("packed_hex").asText(), HexFormat.of().formatHex(packed),
                    name + ": if the layout changed on purpose, change the Python reader with it"
                            + " and put these bytes into the golden file");
        }
    }
}
