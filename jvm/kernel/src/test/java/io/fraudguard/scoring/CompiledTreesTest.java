package io.fraudguard.scoring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** A trees document the scorer cannot trust is refused when read, never scored. */
class CompiledTreesTest {
    private static final List<String> ONE = List.of("x");

    private static CompiledTrees parse(String json, List<String> model, List<String> row)
            throws IOException {
        return CompiledTrees.parse(json.getBytes(StandardCharsets.UTF_8), TreesContractTest.FORMAT,
                model, row);
    }

    /** One split on feature 0 below 2.5, a missing value going right. */
    private static String stump(String left, String right, String feature) {
        return "{\"format\": \"fraudguard-trees-1\", \"base_margin\": 0.0, \"num_feature\": 1,"
                + " \"trees\": [{\"left\": " + left + ", \"right\": " + right + ", \"feature\": "
                + feature + ", \"threshold\": [2.5, -1.0, 1.0], \"default_left\": [0, 0, 0]}]}";
    }

    @Test
    void aStumpSplitsAndSendsMissingValuesToItsDefault() throws Exception {
        CompiledTrees trees = parse(stump("[1, -1, -1]", "[2, -1, -1]", "[0, 0, 0]"), ONE, ONE);
        assertEquals(1 / (1 + Math.exp(1.0)), trees.predict(new double[] {1.0}), 1e-15);
        assertEquals(1 / (1 + Math.exp(-1.0)), trees.predict(new double[] {3.0}), 1e-15);
        assertEquals(1 / (1 + Math.exp(-1.0)), trees.predict(new double[] {Double.NaN}), 1e-15);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "[1, -1, -1]|[2, -1, 5]|[0, 0, 0]", // a child outside the tree
        "[1, -1, -1]|[-1, -1, -1]|[0, 0, 0]", // a left child without a right one
        "[0, -1, -1]|[2, -1, -1]|[0, 0, 0]", // a node its own child: a loop
        "[1, -1, -1]|[2, -1, -1]|[1, 0, 0]", // a feature the model does not have
    })
    void aMalformedTreeIsRefused(String arrays) {
        String[] a = arrays.split("\\|");
        assertThrows(IOException.class, () -> parse(stump(a[0], a[1], a[2]), ONE, ONE));
    }

    @Test
    void anotherFormatOrFeatureCountIsRefused() {
        String good = stump("[1, -1, -1]", "[2, -1, -1]", "[0, 0, 0]");
        assertThrows(IOException.class, () -> parse(good.replace("trees-1", "trees-2"), ONE, ONE));
        assertThrows(IOException.class, () -> parse(good, List.of("x", "y"), ONE));
        assertThrows(IOException.class, () -> parse("[]", ONE, ONE));
    }

    @Test
    void aModelFeatureTheRowsLackIsRefused() {
        String good = stump("[1, -1, -1]", "[2, -1, -1]", "[0, 0, 0]");
        assertThrows(IOException.class, () -> parse(good, ONE, List.of("y")));
    }
}
