package io.fraudguard.scoring;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The JVM scores {@code trees.json} as the contract's cases say (contracts/trees-cases.json:
 * float32 comparisons and sums, missing values to their default side), with the model's
 * features mapped onto a row in another order.
 */
class TreesContractTest {
    static final String FORMAT = "fraudguard-trees-1";

    static Path contract(String name) {
        return Path.of(System.getProperty("fraudguard.contracts"), name);
    }

    static List<String> texts(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    @Test
    void theGoldenTreesScoreTheGoldenCases() throws Exception {
        JsonNode cases = new ObjectMapper().readTree(contract("trees-cases.json").toFile());
        List<String> modelFeatures = texts(cases.get("model_features"));
        List<String> rowFeatures = List.of("txn_night", "unused", "txn_amount_eur", "card_count_1h");
        CompiledTrees trees = CompiledTrees.parse(Files.readAllBytes(contract("trees.json")), FORMAT,
                modelFeatures, rowFeatures);
        assertEquals(2, trees.trees());
        for (JsonNode c : cases.get("rows")) {
            double[] row = new double[rowFeatures.size()];
            for (int i = 0; i < row.length; i++) {
                JsonNode v = c.get("features").get(rowFeatures.get(i));
                row[i] = v == null || v.isNull() ? Double.NaN : v.asDouble();
            }
            assertEquals(c.get("probability").asDouble(), trees.predict(row), 1e-12,
                    c.get("case").asText());
        }
    }
}
