package io.fraudguard.flink;

import io.fraudguard.features.FeatureSpec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shadow challenger is scored beside the champion and changes nothing else: a challenger
 * that cannot load or score leaves the champion's score and version as they are, and one set
 * or cleared while the job runs is followed.
 */
class PackForDecisionChallengerTest {
    private static final String LAYOUT = "{\"pointer_file\": \"champion.json\", \"metadata_file\":"
            + " \"metadata.json\", \"trees_file\": \"trees.json\", \"version_pattern\":"
            + " \"[A-Za-z0-9][A-Za-z0-9._-]{0,127}\", \"trees_format\": \"fraudguard-trees-1\"}";

    private static void model(Path root, String version, boolean withTrees) throws Exception {
        Path folder = Files.createDirectories(root.resolve(version));
        if (withTrees) {
            Files.copy(PackForDecisionContractTest.contract("trees.json"), folder.resolve("trees.json"));
        }
        JsonNode cases = new ObjectMapper().readTree(
                PackForDecisionContractTest.contract("trees-cases.json").toFile());
        Files.writeString(folder.resolve("metadata.json"),
                "{\"feature_names\": " + cases.get("model_features") + "}");
    }

    private static void pointer(Path root, String challenger) throws Exception {
        Files.writeString(root.resolve("champion.json"), "{\"champion\": \"m1\""
                + (challenger == null ? "" : ", \"challenger\": \"" + challenger + "\"") + "}");
    }

    /** Champion score, champion version, challenger score, challenger version. */
    private static Object[] scores(byte[] packed, int features) {
        ByteBuffer b = ByteBuffer.wrap(packed).order(ByteOrder.LITTLE_ENDIAN);
        int at = 4 + 8 * features + 1;
        double score = b.getDouble(at);
        int length = packed[at + 8];
        String version = new String(packed, at + 9, length, StandardCharsets.UTF_8);
        at += 9 + length;
        double shadow = b.getDouble(at);
        int shadowLength = packed[at + 8];
        String shadowVersion = new String(packed, at + 9, shadowLength, StandardCharsets.UTF_8);
        return new Object[] {score, version, shadow, shadowVersion};
    }

    @Test
    void aBrokenChallengerChangesNothingButItsOwnFields(@TempDir Path root) throws Exception {
        String spec = Files.readString(PackForDecisionContractTest.contract("feature-spec.json"));
        model(root, "m1", true);
        model(root, "broken", false); // no trees: it cannot load
        model(root, "m2", true);
        pointer(root, "broken");
        PackForDecision pack = new PackForDecision(root.toString(), LAYOUT, spec, 0);
        pack.open(null);
        Enriched e = new Enriched();
        e.features = new double[FeatureSpec.parse(spec).size()];
        for (int i = 0; i < e.features.length; i++) {
            e.features[i] = i * 1.5;
        }
        e.json = "{}".getBytes(StandardCharsets.UTF_8);

        Object[] withBroken = scores(pack.map(e), e.features.length);
        assertEquals("m1", withBroken[1]);
        assertTrue(Double.isNaN((double) withBroken[2]));
        assertEquals("", withBroken[3]);

        pointer(root, null);
        Object[] alone = scores(pack.map(e), e.features.length);
        assertEquals(withBroken[0], alone[0], "the champion's score does not depend on it");

        pointer(root, "m2"); // set while running: followed at the next check
        Object[] beside = scores(pack.map(e), e.features.length);
        assertEquals(alone[0], beside[0]);
        assertEquals("m2", beside[3]);
        assertEquals((double) alone[0], (double) beside[2], "the same trees, the same score");
    }
}
