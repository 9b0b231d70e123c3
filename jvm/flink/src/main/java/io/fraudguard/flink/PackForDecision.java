package io.fraudguard.flink;

import io.fraudguard.features.FeatureSpec;
import io.fraudguard.scoring.ChampionModel;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A transaction with its features and its base score, for the Python decision: int32 n, n
 * float64 features (registry order), one byte late (0 or 1), the base score as float64 (NaN when
 * no model scored it), the model version (one byte of length, then UTF-8; empty when none), the
 * shadow challenger's score and version the same way, the features as the decision record's
 * JSON object (int32 length, then ASCII), then the validated transaction's JSON; all
 * little-endian (see {@code fraudguard.flink.batches.unpack_features},
 * and the golden records of contracts/packed-decision.json).
 *
 * <p>The features' JSON is written here, with {@link ExactText#appendJson}, because Python took
 * 8 of its 26 µs a decision to write the record's 58 floats; the Python decision splices it in.
 *
 * <p>The base score is the registry's champion ({@link ChampionModel}) scored here, in the JVM:
 * about 4 µs a transaction against about 18 µs for the same trees in Python (146 trees,
 * {@code bench/scoring.py}). Without a champion, or when scoring fails, the decision falls back
 * to the rule-based score, marked degraded.
 *
 * <p>The challenger (the pointer's {@code challenger}, set by {@code fraudguard model
 * challenger}) is scored beside it for comparison only: its score goes into the record and
 * never into the decision, and its failure changes nothing but its own fields.
 */
public class PackForDecision extends RichMapFunction<Enriched, byte[]> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(PackForDecision.class);
    private static final byte[] NO_VERSION = new byte[0];
    private static final Pattern PLAIN_NAME = Pattern.compile("[A-Za-z0-9_]+");

    private final String modelsDir;
    private final String layoutJson;
    private final String specJson;
    private final long checkEveryMs;

    private transient ChampionModel champion;
    private transient ChampionModel challenger;
    private transient String lastFailure;
    private transient VersionBytes championVersion;
    private transient VersionBytes challengerVersion;
    private transient String[] jsonKeys; // per feature: '{' or ',', its quoted name, ':'
    private transient StringBuilder json;

    /**
     * {@code modelsDir} null: no model, every decision scored by the rules. {@code layoutJson}:
     * the registry's serving layout ({@code fraudguard.models.registry.serving_layout()}).
     */
    public PackForDecision(String modelsDir, String layoutJson, String specJson,
            long checkEveryMs) {
        this.modelsDir = modelsDir;
        this.layoutJson = layoutJson;
        this.specJson = specJson;
        this.checkEveryMs = checkEveryMs;
    }

    @Override
    public void open(OpenContext context) throws Exception {
        List<String> names = FeatureSpec.parse(specJson).names;
        if (modelsDir != null) {
            champion = new ChampionModel(Path.of(modelsDir), layoutJson, names, checkEveryMs);
            challenger = ChampionModel.following("challenger", Path.of(modelsDir), layoutJson,
                    names, checkEveryMs);
        }
        championVersion = new VersionBytes();
        challengerVersion = new VersionBytes();
        jsonKeys = new String[names.size()];
        for (int i = 0; i < jsonKeys.length; i++) {
            if (!PLAIN_NAME.matcher(names.get(i)).matches()) {
                // written unescaped into JSON: the registry's names are identifiers
                throw new IllegalArgumentException("feature name needs escaping: " + names.get(i));
            }
            jsonKeys[i] = (i == 0 ? "{\"" : ",\"") + names.get(i) + "\":";
        }
        json = new StringBuilder(32 * jsonKeys.length);
    }

    @Override
    public byte[] map(Enriched e) {
        ChampionModel.Served served = champion == null ? null : champion.current();
        double score = score(served, e.features);
        byte[] version = Double.isNaN(score) ? NO_VERSION : championVersion.of(served.version());
        ChampionModel.Served shadow = challenger == null ? null : challenger.current();
        double shadowScore = score(shadow, e.features);
        byte[] shadowVersion = Double.isNaN(shadowScore) ? NO_VERSION
                : challengerVersion.of(shadow.version());
        byte[] features = featuresJson(e.features);
        ByteBuffer packed = ByteBuffer.allocate(4 + 8 * e.features.length + 1 + 8 + 1
                + version.length + 8 + 1 + shadowVersion.length + 4 + features.length
                + e.json.length).order(ByteOrder.LITTLE_ENDIAN);
        packed.putInt(e.features.length);
        for (double f : e.features) {
            packed.putDouble(f);
        }
        packed.put((byte) (e.late ? 1 : 0));
        packed.putDouble(score);
        packed.put((byte) version.length);
        packed.put(version);
        packed.putDouble(shadowScore);
        packed.put((byte) shadowVersion.length);
        packed.put(shadowVersion);
        packed.putInt(features.length);
        packed.put(features);
        packed.put(e.json);
        return packed.array();
    }

    /** The model's score, or NaN when there is no model or it failed (logged once). */
    private double score(ChampionModel.Served served, double[] features) {
        if (served == null) {
            return Double.NaN;
        }
        try {
            return served.trees().predict(features);
        } catch (RuntimeException ex) {
            // A scoring failure must not drop a payment: the rules answer, marked degraded.
            String message = served.version() + ": " + ex;
            if (!message.equals(lastFailure)) {
                LOG.error("model {} failed to score (a payment the champion cannot score is"
                        + " scored by the rules)", message);
                lastFailure = message;
            }
            return Double.NaN;
        }
    }

    /** The features as a JSON object in registry order, each value exact. */
    byte[] featuresJson(double[] values) {
        if (values.length != jsonKeys.length) {
            throw new IllegalStateException(
                    values.length + " feature values for " + jsonKeys.length + " names");
        }
        json.setLength(0);
        for (int i = 0; i < values.length; i++) {
            ExactText.appendJson(json.append(jsonKeys[i]), values[i]);
        }
        return json.append('}').toString().getBytes(StandardCharsets.US_ASCII);
    }

    /** A version's UTF-8 bytes, encoded again only when the version changes. */
    private static final class VersionBytes {
        private String version;
        private byte[] bytes;

        byte[] of(String name) {
            if (!name.equals(version)) {
                version = name;
                bytes = name.getBytes(StandardCharsets.UTF_8);
            }
            return bytes;
        }
    }
}
