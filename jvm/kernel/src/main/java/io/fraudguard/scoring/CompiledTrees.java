package io.fraudguard.scoring;

import java.io.IOException;
import java.util.List;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * A gradient-boosted tree model as {@code fraudguard.models.trees} writes it
 * ({@code trees.json}), scored in the JVM: the same document, the same float32 comparisons and
 * sums as XGBoost, so a score equals the booster's prediction to float rounding (tested to 1e-6
 * in {@code tests/unit/models/test_trees.py}; the format is contracts/trees.schema.json).
 *
 * <p>All trees live in flat arrays, each node's children as absolute indices; a leaf has
 * {@code left == -1} and keeps its value in {@code threshold}. A split's feature is an index into
 * the caller's row, not the model's: the model's feature order is mapped onto the row's once,
 * when the trees are read.
 */
public final class CompiledTrees {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final int[] roots;
    private final int[] left;
    private final int[] right;
    private final int[] feature;
    private final float[] threshold;
    private final boolean[] defaultLeft;
    private final float baseMargin;

    private CompiledTrees(int[] roots, int[] left, int[] right, int[] feature, float[] threshold,
            boolean[] defaultLeft, float baseMargin) {
        this.roots = roots;
        this.left = left;
        this.right = right;
        this.feature = feature;
        this.threshold = threshold;
        this.defaultLeft = defaultLeft;
        this.baseMargin = baseMargin;
    }

    /**
     * Reads {@code trees.json}, which must be in {@code format} (Python's
     * {@code fraudguard.models.trees.FORMAT}); {@code modelFeatures} are the model's feature
     * names in its own order, {@code rowFeatures} the names of the rows it will score.
     */
    public static CompiledTrees parse(byte[] json, String format, List<String> modelFeatures,
            List<String> rowFeatures) throws IOException {
        JsonNode doc = JSON.readTree(json);
        if (doc == null || !format.equals(doc.path("format").asText())) {
            throw new IOException("not a " + format + " document");
        }
        int numFeature = doc.path("num_feature").asInt(-1);
        if (numFeature != modelFeatures.size()) {
            throw new IOException(numFeature + " features in the trees, " + modelFeatures.size()
                    + " names");
        }
        int[] column = new int[numFeature];
        for (int i = 0; i < numFeature; i++) {
            column[i] = rowFeatures.indexOf(modelFeatures.get(i));
            if (column[i] < 0) {
                throw new IOException("the model needs feature " + modelFeatures.get(i)
                        + ", which the job does not compute");
            }
        }
        JsonNode trees = doc.path("trees");
        int nodes = 0;
        for (JsonNode tree : trees) {
            nodes += tree.path("left").size();
        }
        int[] roots = new int[trees.size()];
        int[] left = new int[nodes];
        int[] right = new int[nodes];
        int[] feature = new int[nodes];
        float[] threshold = new float[nodes];
        boolean[] defaultLeft = new boolean[nodes];
        int at = 0;
        int t = 0;
        for (JsonNode tree : trees) {
            roots[t++] = at;
            int size = tree.path("left").size();
            for (int n = 0; n < size; n++) {
                int l = tree.path("left").get(n).asInt();
                int r = tree.path("right").get(n).asInt();
                int f = tree.path("feature").get(n).asInt();
                if (l >= size || r >= size || (l >= 0) != (r >= 0) || (l >= 0 && l <= n)
                        || (l >= 0 && r <= n) || f < 0 || f >= numFeature) {
                    throw new IOException("tree " + (t - 1) + " node " + n + " is malformed");
                }
                left[at + n] = l < 0 ? -1 : at + l;
                right[at + n] = r < 0 ? -1 : at + r;
                feature[at + n] = column[f];
                // float32, as XGBoost keeps its split conditions and leaf values
                threshold[at + n] = (float) tree.path("threshold").get(n).asDouble();
                defaultLeft[at + n] = tree.path("default_left").get(n).asInt() != 0;
            }
            at += size;
        }
        return new CompiledTrees(roots, left, right, feature, threshold, defaultLeft,
                (float) doc.path("base_margin").asDouble());
    }

    public int trees() {
        return roots.length;
    }

    /** The fraud probability of one row (NaN = missing). */
    public double predict(double[] row) {
        return predict(row, 0);
    }

    /** {@link #predict(double[])} of the row that starts at {@code offset} of {@code rows}. */
    public double predict(double[] rows, int offset) {
        float sum = 0f;
        for (int node : roots) {
            while (left[node] >= 0) {
                float value = (float) rows[offset + feature[node]];
                boolean goLeft = Float.isNaN(value) ? defaultLeft[node] : value < threshold[node];
                node = goLeft ? left[node] : right[node];
            }
            sum += threshold[node];
        }
        double margin = sum + baseMargin;
        return 1.0 / (1.0 + Math.exp(-margin));
    }
}
