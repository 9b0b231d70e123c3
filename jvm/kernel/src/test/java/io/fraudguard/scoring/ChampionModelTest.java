package io.fraudguard.scoring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The registry's champion, followed while the job runs. */
class ChampionModelTest {
    static final String LAYOUT = "{\"pointer_file\": \"champion.json\", \"metadata_file\":"
            + " \"metadata.json\", \"trees_file\": \"trees.json\", \"version_pattern\":"
            + " \"[A-Za-z0-9][A-Za-z0-9._-]{0,127}\", \"trees_format\": \"fraudguard-trees-1\"}";
    static final List<String> ROW = List.of("txn_amount_eur", "card_count_1h", "txn_night");

    /** A model folder with the golden trees, named {@code version}. */
    static void register(Path root, String version) throws IOException {
        Path folder = Files.createDirectories(root.resolve(version));
        Files.copy(TreesContractTest.contract("trees.json"), folder.resolve("trees.json"));
        Files.writeString(folder.resolve("metadata.json"),
                "{\"feature_names\": [\"card_count_1h\", \"txn_amount_eur\", \"txn_night\"]}");
    }

    static void promote(Path root, String version) throws IOException {
        Files.writeString(root.resolve("champion.json"),
                version == null ? "{\"champion\": null}" : "{\"champion\": \"" + version + "\"}");
    }

    @Test
    void withoutAChampionTheRulesScore(@TempDir Path root) throws Exception {
        ChampionModel champion = new ChampionModel(root, LAYOUT, ROW, 0);
        assertNull(champion.current());
        promote(root, null);
        assertNull(champion.current());
        assertNull(champion.loadChampion());
    }

    @Test
    void aPromotionAndARollbackReachTheRunningScorer(@TempDir Path root) throws Exception {
        register(root, "m1");
        register(root, "m2");
        ChampionModel champion = new ChampionModel(root, LAYOUT, ROW, 0);
        promote(root, "m1");
        ChampionModel.Served first = champion.current();
        assertEquals("m1", first.version());
        assertSame(first, champion.current(), "the same pointer loads nothing again");
        promote(root, "m2");
        assertEquals("m2", champion.current().version());
        promote(root, null);
        assertNull(champion.current());
    }

    @Test
    void aChampionThatCannotLoadLeavesTheOneBefore(@TempDir Path root) throws Exception {
        register(root, "m1");
        ChampionModel champion = new ChampionModel(root, LAYOUT, ROW, 0);
        promote(root, "m1");
        assertEquals("m1", champion.current().version());
        promote(root, "missing");
        assertEquals("m1", champion.current().version());
        promote(root, "../outside");
        assertEquals("m1", champion.current().version());
        assertThrows(IOException.class, champion::loadChampion);
    }
}
