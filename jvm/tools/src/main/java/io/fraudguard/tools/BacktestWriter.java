package io.fraudguard.tools;

import java.io.IOException;
import java.io.OutputStream;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * Scores and writes {@link BacktestRows}' batches on a thread of its own, so the features of
 * the next batch (one core, the longest step) go on meanwhile: batches circulate between a
 * free pool and a queue of filled ones, in order, never more than {@code POOL} in memory.
 */
final class BacktestWriter implements Runnable {
    private static final int POOL = 3;

    private final BlockingQueue<BacktestBatch> free = new ArrayBlockingQueue<>(POOL);
    private final BlockingQueue<BacktestBatch> filled = new ArrayBlockingQueue<>(POOL + 2);
    private final BacktestBatch end = new BacktestBatch(0, 0, 0);
    private final BacktestRows.CompiledScorer[] scorers;
    private final OutputStream out;
    private final Thread thread = new Thread(this, "backtest-writer");
    private volatile Throwable failed;
    long scoreNs;
    long writeNs;

    BacktestWriter(int capacity, int width, BacktestRows.CompiledScorer[] scorers,
            OutputStream out) {
        for (int i = 0; i < POOL; i++) {
            free.add(new BacktestBatch(capacity, width, scorers.length));
        }
        this.scorers = scorers;
        this.out = out;
        thread.setDaemon(true);
        thread.start();
    }

    /** An empty batch to fill (waits while the writer is behind). */
    BacktestBatch take() throws Exception {
        check();
        return free.take();
    }

    /** Hands a filled batch over for scoring and writing, in the order given. */
    void put(BacktestBatch batch) throws Exception {
        check();
        filled.put(batch);
    }

    /** Writes what is left and the end mark; returns when all is written. */
    void finish(BacktestBatch last) throws Exception {
        if (last.size() > 0) {
            put(last);
        }
        filled.put(end);
        thread.join();
        check();
    }

    private void check() throws Exception {
        if (failed != null) {
            throw new IOException("backtest writer failed: " + failed, failed);
        }
    }

    @Override
    public void run() {
        try {
            for (BacktestBatch batch = filled.take(); batch != end; batch = filled.take()) {
                long t0 = System.nanoTime();
                batch.score(scorers);
                long t1 = System.nanoTime();
                batch.writeTo(out);
                writeNs += System.nanoTime() - t1;
                scoreNs += t1 - t0;
                free.put(batch);
            }
            out.write(new byte[4]); // n = 0: the end
            out.flush();
        } catch (Throwable e) { // handed to the reading thread, which stops with it
            failed = e;
            free.clear();
            free.add(new BacktestBatch(1, 0, 0)); // wakes a reader waiting for a batch
        }
    }
}
