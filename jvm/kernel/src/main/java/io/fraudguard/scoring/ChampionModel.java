package io.fraudguard.scoring;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The registry's champion model ({@code fraudguard.models.registry}), or its shadow challenger
 * (the pointer's {@code challenger} field; see {@link #following}), followed while the job
 * runs: at most every {@code checkEveryMs} the pointer is read again, and when it names another
 * model, that model's compiled trees are loaded and score from then on. The registry's file
 * names, version pattern and trees format come from Python as JSON
 * ({@code fraudguard.models.registry.serving_layout()}), not retyped here.
 * So {@code fraudguard model promote} and {@code rollback} reach the running job within about a
 * second. With no champion, {@link #current()} is null and the decision uses the rule-based
 * score, marked degraded; a champion that cannot be loaded is logged once and whatever scored
 * before (a model or the rules) goes on scoring, as {@code fraudguard.decision.fallback} does.
 */
public final class ChampionModel {
    private static final Logger LOG = LoggerFactory.getLogger(ChampionModel.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A loaded model: its registry version and its trees. */
    public record Served(String version, CompiledTrees trees) {}

    private final Path root;
    private final String pointerFile;
    private final String metadataFile;
    private final String treesFile;
    private final String treesFormat;
    private final Pattern version;
    private final List<String> rowFeatures;
    private final long checkEveryNanos;
    private final String role;
    private Served served;
    private byte[] pointerSeen;
    private String failed;
    private long nextCheck = Long.MIN_VALUE;

    public ChampionModel(Path root, String layoutJson, List<String> rowFeatures, long checkEveryMs)
            throws IOException {
        this(root, layoutJson, rowFeatures, checkEveryMs, "champion");
    }

    /**
     * The model the pointer's field {@code role} names: {@code "champion"}, or
     * {@code "challenger"} for the model scored beside it that never decides.
     */
    public static ChampionModel following(String role, Path root, String layoutJson,
            List<String> rowFeatures, long checkEveryMs) throws IOException {
        return new ChampionModel(root, layoutJson, rowFeatures, checkEveryMs, role);
    }

    private ChampionModel(Path root, String layoutJson, List<String> rowFeatures,
            long checkEveryMs, String role) throws IOException {
        this.role = role;
        JsonNode layout = JSON.readTree(layoutJson);
        this.root = root;
        this.pointerFile = layout.get("pointer_file").asText();
        this.metadataFile = layout.get("metadata_file").asText();
        this.treesFile = layout.get("trees_file").asText();
        this.treesFormat = layout.get("trees_format").asText();
        this.version = Pattern.compile(layout.get("version_pattern").asText());
        this.rowFeatures = List.copyOf(rowFeatures);
        this.checkEveryNanos = checkEveryMs * 1_000_000L;
    }

    /** The model to score with now, or null for the rules. */
    public Served current() {
        long now = System.nanoTime();
        if (nextCheck == Long.MIN_VALUE || now - nextCheck >= 0) {
            nextCheck = now + checkEveryNanos;
            refresh();
        }
        return served;
    }

    private void refresh() {
        byte[] pointer;
        try {
            pointer = Files.readAllBytes(root.resolve(pointerFile));
        } catch (NoSuchFileException e) {
            pointer = null;
        } catch (IOException e) {
            failedOnce("cannot read " + root.resolve(pointerFile) + ": " + e);
            return;
        }
        if (java.util.Arrays.equals(pointer, pointerSeen)) {
            return;
        }
        pointerSeen = pointer;
        try {
            String version = pointer == null ? null : champion(pointer);
            if (version == null) {
                if (served != null) {
                    LOG.warn("no {} any more{}", role,
                            role.equals("champion") ? ": scoring with the rules" : "");
                }
                served = null;
            } else if (served == null || !served.version().equals(version)) {
                served = load(version);
                failed = null;
                LOG.info("{} model {} loaded ({} trees)", role, version, served.trees().trees());
            }
        } catch (IOException | RuntimeException e) {
            // Keep what scores now; a pointer written again (or another promotion) retries.
            failedOnce("cannot load the " + role + " model: " + e.getMessage());
        }
    }

    /**
     * The champion as the pointer names it now, loaded, or null when none is promoted; what
     * stops it from loading is thrown, not logged (for tools and tests).
     */
    public Served loadChampion() throws IOException {
        Path pointer = root.resolve(pointerFile);
        String version = Files.exists(pointer) ? champion(Files.readAllBytes(pointer)) : null;
        return version == null ? null : load(version);
    }

    /** A registered version by name, loaded (for backtests of a model that is not serving). */
    public Served loadVersion(String name) throws IOException {
        if (!version.matcher(name).matches()) {
            throw new IOException(name + " is not a model version");
        }
        return load(name);
    }

    private String champion(byte[] pointer) throws IOException {
        JsonNode champion = JSON.readTree(pointer).path(role);
        if (champion.isMissingNode() || champion.isNull()) {
            return null;
        }
        String name = champion.asText();
        if (!version.matcher(name).matches()) {
            throw new IOException(name + " is not a model version");
        }
        return name;
    }

    private Served load(String version) throws IOException {
        Path folder = root.resolve(version);
        List<String> names = new ArrayList<>();
        JSON.readTree(Files.readAllBytes(folder.resolve(metadataFile))).path("feature_names")
                .forEach(n -> names.add(n.asText()));
        try {
            return new Served(version, CompiledTrees.parse(
                    Files.readAllBytes(folder.resolve(treesFile)), treesFormat, names, rowFeatures));
        } catch (IOException e) {
            throw new IOException("model " + version + ": " + e.getMessage(), e);
        }
    }

    private void failedOnce(String message) {
        if (!message.equals(failed)) {
            LOG.error(message);
            failed = message;
        }
    }
}
