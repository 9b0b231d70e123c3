package io.fraudguard.tools;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/** Rows gathered column by column, written as one batch. */
final class BacktestBatch {
    private static final int TRANSPOSE_ROWS = 64;
    final int capacity, width, models;
    final byte[][][] text;
    final long[] ts;
    final double[] amount, scores;
    final double[][] features;
    final boolean[] late;
    int n;
    private ByteBuffer buffer; // kept for the next batch: a batch's bytes are tens of MB

    BacktestBatch(int capacity, int width, int models) {
        this.capacity = capacity;
        this.width = width;
        this.models = models;
        text = new byte[BacktestRows.STRINGS.length][capacity][];
        ts = new long[capacity];
        amount = new double[capacity];
        late = new boolean[capacity];
        features = new double[capacity][];
        scores = new double[capacity * models];
    }

    int size() {
        return n;
    }

    boolean full() {
        return n == capacity;
    }

    /** Keeps {@code row} itself: the kernel makes a new array per transaction. */
    void add(String[] values, long tsMs, double amt, boolean isLate, double[] row) {
        for (int s = 0; s < values.length; s++) {
            text[s][n] = values[s].getBytes(StandardCharsets.UTF_8);
        }
        ts[n] = tsMs;
        amount[n] = amt;
        late[n] = isLate;
        features[n] = row;
        n++;
    }

    /** Each row's base score by each model, as the job's {@code PackForDecision} scores. */
    void score(BacktestRows.CompiledScorer[] scorers) {
        for (int m = 0; m < models; m++) {
            for (int r = 0; r < n; r++) {
                scores[m * capacity + r] = scorers[m].score(features[r]);
            }
        }
    }

    void writeTo(OutputStream out) throws IOException {
        int bytes = 4;
        for (byte[][] column : text) {
            bytes += 4 + 4 * (n + 1);
            for (int r = 0; r < n; r++) {
                bytes += column[r].length;
            }
        }
        bytes += n * (8 + 8 + 1 + 8 * width + 8 * models);
        if (buffer == null || buffer.capacity() < bytes) {
            buffer = ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
        }
        ByteBuffer b = buffer.clear();
        b.putInt(n);
        for (byte[][] column : text) {
            int length = 0;
            for (int r = 0; r < n; r++) {
                length += column[r].length;
            }
            b.putInt(length);
            int offset = 0;
            b.putInt(offset);
            for (int r = 0; r < n; r++) {
                offset += column[r].length;
                b.putInt(offset);
            }
            for (int r = 0; r < n; r++) {
                b.put(column[r]);
            }
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
                    b.putDouble(column + 8 * r, features[r][f]);
                }
            }
        }
        b.position(at + 8 * width * n);
        java.util.Arrays.fill(features, 0, n, null);
        for (int m = 0; m < models; m++) {
            for (int r = 0; r < n; r++) {
                b.putDouble(scores[m * capacity + r]);
            }
        }
        out.write(b.array(), 0, b.position());
        n = 0;
    }
}
