package io.fraudguard.flink;

import io.fraudguard.features.FeatureSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes the newest card and merchant features of each transaction to the online store in Redis
 * and passes the transaction on. The store's protocol is
 * {@code fraudguard.features.online_store}'s: the same put-if-newer Lua script (handed over from
 * Python, not retyped), keys
 * {@code {prefix}:{entity}:{id}}, values as exact text. Writes are buffered (newest per key)
 * and sent by a background thread every {@code flushEvery} transactions or {@code flushMs}; the
 * job never waits for Redis, and while a send is still running the buffer keeps the newest
 * write per key until the next flush. Writes lost with a
 * crash are written again when the job replays from its checkpoint, and the script never lets a
 * replay move a value backwards. A failing Redis is logged and never stops decisions.
 */
public class OnlineStoreWrites extends RichMapFunction<Enriched, Enriched> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(OnlineStoreWrites.class);
    private static final String[] ENTITIES = {"card", "merchant"};
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String host;
    private final int port;
    private final int db;
    private final String prefix;
    private final long ttlS;
    private final String script;
    private final String specJson;
    private final int flushEvery;
    private final long flushMs;

    /** One buffered write: its version and its values, in the entity's name order. */
    private record Write(long tsMs, String txnId, int entity, double[] values) {}

    private transient String[] keyPrefixes; // per entity: "{prefix}:{entity}:"
    private transient byte[][] command; // EVAL and the script, encoded once
    private transient List<byte[]> head; // the script's arguments that never change
    private transient int[][] positions;
    private transient Object lock;
    private transient Map<String, Write> pending;
    private transient int count;
    private transient ExecutorService sender;
    private transient ScheduledExecutorService timer;
    private transient volatile Future<?> inflight;
    private transient RedisConnection redis;
    private transient long failures;

    public OnlineStoreWrites(String host, int port, int db, String prefix, long ttlS, String script,
            String specJson, int flushEvery, long flushMs) {
        this.host = host;
        this.port = port;
        this.db = db;
        this.prefix = prefix;
        this.ttlS = ttlS;
        this.script = script;
        this.specJson = specJson;
        this.flushEvery = flushEvery;
        this.flushMs = flushMs;
    }

    @Override
    public void open(OpenContext context) throws Exception {
        FeatureSpec spec = FeatureSpec.parse(specJson);
        List<List<String>> names = new ArrayList<>();
        keyPrefixes = new String[ENTITIES.length];
        positions = new int[ENTITIES.length][];
        for (int e = 0; e < ENTITIES.length; e++) {
            List<String> these = new ArrayList<>();
            List<Integer> where = new ArrayList<>();
            for (int i = 0; i < spec.features.size(); i++) {
                if (spec.features.get(i).entity().equals(ENTITIES[e])) {
                    these.add(spec.names.get(i));
                    where.add(i);
                }
            }
            names.add(these);
            positions[e] = where.stream().mapToInt(Integer::intValue).toArray();
            keyPrefixes[e] = prefix + ":" + ENTITIES[e] + ":";
        }
        command = new byte[][] {
            "EVAL".getBytes(StandardCharsets.US_ASCII), script.getBytes(StandardCharsets.UTF_8)};
        head = List.of(
                Long.toString(ttlS).getBytes(StandardCharsets.US_ASCII),
                (prefix + ":names:").getBytes(StandardCharsets.UTF_8),
                JSON.writeValueAsBytes(names));
        lock = new Object();
        pending = new HashMap<>();
        sender = Executors.newSingleThreadExecutor(r -> new Thread(r, "online-store"));
        timer = Executors.newSingleThreadScheduledExecutor(r -> new Thread(r, "online-store-timer"));
        // Quiet input: send what is buffered instead of waiting for a full buffer.
        timer.scheduleWithFixedDelay(() -> flush(false), flushMs, flushMs, TimeUnit.MILLISECONDS);
    }

    @Override
    public Enriched map(Enriched e) {
        String[] ids = {e.cardId, e.merchantId};
        for (int entity = 0; entity < ENTITIES.length; entity++) {
            // Kept as numbers: only the newest write per key is sent, and turned into text on
            // the sending thread, so the writes a busy merchant's next payment replaces cost
            // no formatting.
            double[] values = new double[positions[entity].length];
            for (int i = 0; i < values.length; i++) {
                values[i] = e.features[positions[entity][i]];
            }
            String key = keyPrefixes[entity] + ids[entity];
            Write write = new Write(e.tsMs, e.txnId, entity, values);
            synchronized (lock) {
                pending.merge(key, write, (held, next) -> newer(next, held) ? next : held);
            }
        }
        if (++count >= flushEvery) {
            count = 0;
            flush(false);
        }
        return e;
    }

    /** Comma-separated, each value exact ({@link ExactText}), as the store's readers require. */
    static String text(double[] values) {
        StringBuilder out = new StringBuilder(16 * values.length);
        for (int i = 0; i < values.length; i++) {
            ExactText.append(i == 0 ? out : out.append(','), values[i]);
        }
        return out.toString();
    }

    private static boolean newer(Write a, Write b) {
        return a.tsMs > b.tsMs || a.tsMs == b.tsMs && a.txnId.compareTo(b.txnId) > 0;
    }

    private void flush(boolean wait) {
        Map<String, Write> writes;
        synchronized (lock) {
            Future<?> previous = inflight;
            if (!wait && previous != null && !previous.isDone()) {
                // Redis is slow or away: keep collecting (the newest write per key, so the
                // buffer is bounded by the keys) rather than queueing sends without end.
                return;
            }
            if (pending.isEmpty()) {
                return;
            }
            writes = pending;
            pending = new HashMap<>();
            inflight = sender.submit(() -> send(writes));
        }
        Future<?> sent = inflight;
        if (wait) {
            try {
                sent.get(30, TimeUnit.SECONDS);
            } catch (Exception ex) {
                LOG.warn("online store: the last flush did not finish: {}", ex.toString());
            }
        }
    }

    private void send(Map<String, Write> writes) {
        try {
            // The script's arguments: keys, then ttl, names prefix, names lists, and four per key.
            List<byte[]> args = new ArrayList<>(5 * writes.size() + 6);
            args.add(command[0]);
            args.add(command[1]);
            args.add(Integer.toString(writes.size()).getBytes(StandardCharsets.US_ASCII));
            for (String key : writes.keySet()) {
                args.add(key.getBytes(StandardCharsets.UTF_8));
            }
            args.addAll(head); // ttl, names prefix, names lists
            for (Write w : writes.values()) { // the same order as the keys: one map, unchanged
                args.add(Long.toString(w.tsMs).getBytes(StandardCharsets.US_ASCII));
                args.add(w.txnId.getBytes(StandardCharsets.UTF_8));
                args.add(Integer.toString(w.entity).getBytes(StandardCharsets.US_ASCII));
                args.add(text(w.values).getBytes(StandardCharsets.US_ASCII));
            }
            if (redis == null) {
                redis = new RedisConnection(host, port, db, 10_000);
            }
            redis.command(args);
        } catch (IOException | RuntimeException ex) {
            failures++;
            if (failures == 1 || failures == 10 || failures == 100 || failures % 1000 == 0) {
                LOG.warn("online store flush failed ({}x): {}", failures, ex.toString());
            }
            closeConnection();
        }
    }

    private void closeConnection() {
        try {
            if (redis != null) {
                redis.close();
            }
        } catch (IOException ignored) {
            // closing a broken connection
        }
        redis = null;
    }

    @Override
    public void close() throws Exception {
        if (timer != null) {
            timer.shutdownNow();
            flush(true);
            sender.shutdown();
            sender.awaitTermination(30, TimeUnit.SECONDS);
            closeConnection();
        }
    }
}
