package io.fraudguard.tools;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Rows of {@link BacktestRows} gathered column by column, written as one batch. A batch keeps
 * copies in arrays of its own, reused batch after batch: the rows it holds while the writer is
 * behind would otherwise be hundreds of thousands of small objects that every young collection
 * copies.
 */
final class BacktestBatch {
    private static final int TRANSPOSE_ROWS = 64;

    final int capacity, width, models;
    final byte[][] text; // per string column, the values' UTF-8 bytes one after another
    final int[][] ends; // per string column, where each row's value ends in text
    final long[] ts;
    final double[] amount, scores;
    final double[] features; // row by row, width a row
    final boolean[] late;
    int n;
    private ByteBuffer buffer; // kept for the next batch: a batch's bytes are tens of MB

    BacktestBatch(int capacity, int width, int models) {
        this.capacity = capacity;
        this.width = width;
        this.models = models;
        text = new byte[BacktestRows.STRINGS.length][16 * capacity];
        ends = new int[BacktestRows.STRINGS.length][capacity];
        ts = new long[capacity];
        amount = new double[capacity];
        late = new boolean[capacity];
        features = new double[capacity * width];
        scores = new double[capacity * models];
    }

    int size() {
        return n;
    }

    boolean full() {
        return n == capacity;
    }

    /** Copies a row in; {@code row} may be reused once this returns. */
    void add(String[] values, long tsMs, double amt, boolean isLate, double[] row) {
        for (int s = 0; s < values.length; s++) {
            byte[] bytes = values[s].getBytes(StandardCharsets.UTF_8);
            int from = n == 0 ? 0 : ends[s][n - 1];
            if (from + bytes.length > text[s].length) {
                text[s] = Arrays.copyOf(text[s], Math.max(from + bytes.length, 2 * text[s].length));
            }
            System.arraycopy(bytes, 0, text[s], from, bytes.length);
            ends[s][n] = from + bytes.length;
        }
        ts[n] = tsMs;
        amount[n] = amt;
        late[n] = isLate;
        System.arraycopy(row, 0, features, n * width, width);
        n++;
    }

    /** Each row's base score by each model, as the job's {@code PackForDecision} scores. */
    void score(BacktestRows.CompiledScorer[] scorers) {
        for (int m = 0; m < models; m++) {
            for (int r = 0; r < n; r++) {
                scores[m * capacity + r] = scorers[m].score(features, r * width);
            }
        }
    }

    void writeTo(OutputStream out) throws IOException {
        int bytes = 4;
        for (int s = 0; s < text.length; s++) {
            bytes += 4 + 4 * (n + 1) + (n == 0 ? 0 : ends[s][n - 1]);
        }
        bytes += n * (8 + 8 + 1 + 8 * width + 8 * models);
        if (buffer == null || buffer.capacity() < bytes) {
            buffer = ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
        }
        ByteBuffer b = buffer.clear();
        b.putInt(n);
        for (int s = 0; s < text.length; s++) {
            int length = n == 0 ? 0 : ends[s][n - 1];
            b.putInt(length);
            b.putInt(0);
            for (int r = 0; r < n; r++) {
                b.putInt(ends[s][r]);
            }
            b.put(text[s], 0, length);
        }
        for (int r = 0; r < n; r++) {
            b.putLong(ts[r]);
        }
        for (int r = 0; r < n; r++) {
            b.putDouble(amount[r]);
        }
        for (int r = 0; r < n; r++) {
            b.put((byte) (late[r] ? 1 : 0));
        }
        // Column by column, so each feature's values arrive contiguous as Arrow's columns hold
        // them; transposed a block of rows at a time, which stays in the cache.
        int at = b.position();
        for (int block = 0; block < n; block += TRANSPOSE_ROWS) {
            int until = Math.min(n, block + TRANSPOSE_ROWS);
            for (int f = 0; f < width; f++) {
                int column = at + 8 * f * n;
                for (int r = block; r < until; r++) {
                    b.putDouble(column + 8 * r, features[r * width + f]);
                }
            }
        }
        b.position(at + 8 * width * n);
        for (int m = 0; m < models; m++) {
            for (int r = 0; r < n; r++) {
                b.putDouble(scores[m * capacity + r]);
            }
        }
        out.write(b.array(), 0, b.position());
        n = 0;
    }
}
