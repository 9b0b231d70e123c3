package io.fraudguard.tools;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.fraudguard.scoring.ChampionModel;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Scores rows with the registry's champion as the job does, for tests and benchmarks:
 * {@code ScoreRows MODELS_DIR LAYOUT NAMES_JSON ROWS_F64 OUT_F64 [PASSES]}, with
 * {@code LAYOUT} the registry's serving layout as JSON text. The rows are little-endian
 * float64, one row of {@code NAMES_JSON}'s length after another (NaN = missing); their
 * probabilities go to {@code OUT_F64}. Prints one JSON line: the model version, the row count,
 * and the best time per row over {@code PASSES} passes (default 1).
 */
public final class ScoreRows {
    private ScoreRows() {}

    public static void main(String[] args) throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<String> names = new ArrayList<>();
        json.readTree(Files.readAllBytes(Path.of(args[2]))).forEach(n -> names.add(n.asText()));
        ChampionModel.Served served =
                new ChampionModel(Path.of(args[0]), args[1], names, 1000).loadChampion();
        if (served == null) {
            throw new IOException("no champion in " + args[0]);
        }
        ByteBuffer in = ByteBuffer.wrap(Files.readAllBytes(Path.of(args[3])))
                .order(ByteOrder.LITTLE_ENDIAN);
        int count = in.remaining() / 8 / names.size();
        double[][] rows = new double[count][names.size()];
        for (double[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                row[i] = in.getDouble();
            }
        }
        int passes = args.length > 5 ? Integer.parseInt(args[5]) : 1;
        double[] scores = new double[count];
        long best = Long.MAX_VALUE;
        for (int pass = 0; pass < passes; pass++) {
            long start = System.nanoTime();
            for (int r = 0; r < count; r++) {
                scores[r] = served.trees().predict(rows[r]);
            }
            best = Math.min(best, System.nanoTime() - start);
        }
        ByteBuffer out = ByteBuffer.allocate(8 * count).order(ByteOrder.LITTLE_ENDIAN);
        for (double s : scores) {
            out.putDouble(s);
        }
        Files.write(Path.of(args[4]), out.array());
        System.out.println(json.writeValueAsString(java.util.Map.of(
                "version", served.version(), "rows", count, "trees", served.trees().trees(),
                "us_per_row", count == 0 ? 0.0 : best / 1000.0 / count)));
    }
}
