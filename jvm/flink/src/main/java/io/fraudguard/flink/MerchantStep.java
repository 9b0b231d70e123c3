package io.fraudguard.flink;

import io.fraudguard.features.BucketWindows;
import io.fraudguard.features.FeatureKernel;
import io.fraudguard.features.FeatureSpec;
import io.fraudguard.features.LabelWindows;
import io.fraudguard.features.Txn;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.common.typeutils.base.StringSerializer;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.runtime.state.VoidNamespaceSerializer;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.InternalTimer;
import org.apache.flink.streaming.api.operators.InternalTimerService;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.operators.Triggerable;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

/**
 * Keyed by merchant: merchant and terminal features from time buckets, with the card's previous
 * sightings here as the card step found them, and the label-fed fraud rates of both; in
 * event-time order or arrival order and late as in {@link FeatureSteps}. A fraud label goes into
 * the merchant's and its terminal's labels and on to the device step.
 *
 * <p>The states of busy merchants are kept as objects in a bounded cache (least recently used
 * first out) and written to Flink's keyed state only when they leave the cache and at every
 * checkpoint, before the state is snapshotted ({@link #snapshotState}). A merchant paid at
 * thousands of times between two checkpoints is then read and written once per checkpoint
 * instead of once per payment: with RocksDB, reading and writing its buckets had been a third of
 * the job's CPU. A checkpoint always holds every change made before its barrier, so a restart
 * from it is exact; what the cache held after the barrier is replayed from Kafka.
 */
public class MerchantStep extends AbstractStreamOperator<Enriched>
        implements OneInputStreamOperator<Enriched, Enriched>, Triggerable<String, VoidNamespace> {
    private static final long serialVersionUID = 1L;
    private static final long NONE = Long.MIN_VALUE;

    private final String specJson;
    private final int cacheSize;
    private final boolean inEventTimeOrder;

    /** One merchant's state as objects, and which parts changed since they were written. */
    private static final class Cached {
        BucketWindows merchant;
        boolean merchantDirty;
        final Map<String, BucketWindows> terminals = new HashMap<>();
        final Map<String, BucketWindows> dirtyTerminals = new HashMap<>();
        long newest = NONE;
        boolean newestDirty;
        LabelWindows merchantLabels; // read when first needed
        boolean merchantLabelsDirty;
        final Map<String, LabelWindows> terminalLabels = new HashMap<>();
        final Map<String, LabelWindows> dirtyTerminalLabels = new HashMap<>();

        boolean dirty() {
            return merchantDirty || newestDirty || !dirtyTerminals.isEmpty()
                    || merchantLabelsDirty || !dirtyTerminalLabels.isEmpty();
        }
    }

    private transient FeatureKernel kernel;
    private transient ValueState<BucketWindows> merchant;
    private transient MapState<String, BucketWindows> terminals;
    private transient ValueState<Long> newest;
    private transient ValueState<LabelWindows> merchantLabels;
    private transient MapState<String, LabelWindows> terminalLabels;
    private transient boolean merchantLabelFed;
    private transient boolean terminalLabelFed;
    // Whether a payment changes the labels' states (their fraud rates count payments): asked
    // once, not per payment.
    private transient boolean merchantCountsPayments;
    private transient boolean terminalCountsPayments;
    private transient LinkedHashMap<String, Cached> cache;
    private transient MapState<Long, List<Enriched>> pending;
    private transient InternalTimerService<VoidNamespace> timers;

    public MerchantStep(String specJson, int cacheSize, boolean inEventTimeOrder) {
        if (cacheSize < 1) {
            throw new IllegalArgumentException("the merchant cache needs room for one merchant");
        }
        this.specJson = specJson;
        this.cacheSize = cacheSize;
        this.inEventTimeOrder = inEventTimeOrder;
    }

    @Override
    public void open() throws Exception {
        super.open();
        kernel = new FeatureKernel(FeatureSpec.parse(specJson));
        // The same states, names and serializers as a keyed process function would hold.
        merchant = getRuntimeContext().getState(
                new ValueStateDescriptor<>("merchant", new KernelStateSerializer.Buckets()));
        terminals = getRuntimeContext().getMapState(new MapStateDescriptor<>(
                "terminals", StringSerializer.INSTANCE, new KernelStateSerializer.Buckets()));
        newest = getRuntimeContext().getState(new ValueStateDescriptor<>("newest", Types.LONG));
        merchantLabels = getRuntimeContext().getState(
                new ValueStateDescriptor<>("merchant-labels", new KernelStateSerializer.Labels()));
        terminalLabels = getRuntimeContext().getMapState(new MapStateDescriptor<>(
                "terminal-labels", StringSerializer.INSTANCE, new KernelStateSerializer.Labels()));
        merchantLabelFed = kernel.hasLabelFeatures("merchant");
        terminalLabelFed = kernel.hasLabelFeatures("terminal");
        merchantCountsPayments = merchantLabelFed && kernel.countsPayments("merchant");
        terminalCountsPayments = terminalLabelFed && kernel.countsPayments("terminal");
        cache = new LinkedHashMap<>(2 * cacheSize, 0.75f, true);
        pending = getRuntimeContext().getMapState(
                EventTimeOrder.pendingState(TypeInformation.of(Enriched.class)));
        timers = getInternalTimerService("release", VoidNamespaceSerializer.INSTANCE, this);
    }

    @Override
    public void processElement(StreamRecord<Enriched> record) throws Exception {
        Enriched e = record.getValue();
        if (inEventTimeOrder) {
            if (e.tsMs > timers.currentWatermark()) {
                EventTimeOrder.hold(pending, e.tsMs, e);
                timers.registerEventTimeTimer(VoidNamespace.INSTANCE, e.tsMs);
                return;
            }
            e.late = true;
        }
        apply(e);
    }

    @Override
    public void onEventTime(InternalTimer<String, VoidNamespace> timer) throws Exception {
        for (Enriched e : EventTimeOrder.takeDue(
                pending, timer.getTimestamp(), EventTimeOrder.PROCESSING_ORDER)) {
            apply(e);
        }
    }

    @Override
    public void onProcessingTime(InternalTimer<String, VoidNamespace> timer) {}

    private void apply(Enriched e) throws Exception {
        String key = (String) getCurrentKey();
        Cached c = cache.get(key);
        if (c == null) {
            c = load();
            if (cache.size() >= cacheSize) {
                evictEldest(key);
            }
            cache.put(key, c);
        }
        if (e.label) {
            if (merchantLabelFed && kernel.fraudLabel(merchantLabels(c), e.txnId, e.tsMs)) {
                c.merchantLabelsDirty = true;
            }
            if (terminalLabelFed) {
                LabelWindows t = terminalLabels(c, e.terminalId);
                if (kernel.fraudLabel(t, e.txnId, e.tsMs)) {
                    c.dirtyTerminalLabels.put(e.terminalId, t);
                }
            }
            output.collect(new StreamRecord<>(e));
            return;
        }
        Txn txn = e.txn();
        kernel.merchant(c.merchant, txn, e.seenAtMerchantMs, e.features);
        c.merchantDirty = true;
        BucketWindows t = c.terminals.get(e.terminalId);
        if (t == null) {
            t = terminals.get(e.terminalId); // the current key is this merchant's
            if (t == null) {
                t = kernel.newTerminalState();
            }
            c.terminals.put(e.terminalId, t);
        }
        kernel.terminal(t, txn, e.seenAtTerminalMs, e.features);
        c.dirtyTerminals.put(e.terminalId, t);
        if (merchantLabelFed) {
            kernel.labelFeatures("merchant", merchantLabels(c), e.tsMs, e.features);
            c.merchantLabelsDirty |= merchantCountsPayments;
        }
        if (terminalLabelFed) {
            LabelWindows labels = terminalLabels(c, e.terminalId);
            kernel.labelFeatures("terminal", labels, e.tsMs, e.features);
            if (terminalCountsPayments) {
                c.dirtyTerminalLabels.put(e.terminalId, labels);
            }
        }
        boolean late = c.newest != NONE && e.tsMs < c.newest;
        if (!late) {
            c.newest = e.tsMs;
            c.newestDirty = true;
        }
        e.late = late || e.late;
        output.collect(new StreamRecord<>(e));
    }

    /** The merchant's labels, read from keyed state when first needed (the current key's). */
    private LabelWindows merchantLabels(Cached c) throws Exception {
        if (c.merchantLabels == null) {
            c.merchantLabels = merchantLabels.value();
            if (c.merchantLabels == null) {
                c.merchantLabels = kernel.newLabelState("merchant");
            }
        }
        return c.merchantLabels;
    }

    /** A terminal's labels, read from keyed state when first met. */
    private LabelWindows terminalLabels(Cached c, String terminalId) throws Exception {
        LabelWindows t = c.terminalLabels.get(terminalId);
        if (t == null) {
            t = terminalLabels.get(terminalId);
            if (t == null) {
                t = kernel.newLabelState("terminal");
            }
            c.terminalLabels.put(terminalId, t);
        }
        return t;
    }

    /** The current key's state from Flink's keyed state (terminals are read when met). */
    private Cached load() throws Exception {
        Cached c = new Cached();
        c.merchant = merchant.value();
        if (c.merchant == null) {
            c.merchant = kernel.newMerchantState();
        }
        Long seen = newest.value();
        c.newest = seen == null ? NONE : seen;
        return c;
    }

    private void evictEldest(String current) throws Exception {
        Iterator<Map.Entry<String, Cached>> it = cache.entrySet().iterator();
        Map.Entry<String, Cached> eldest = it.next();
        it.remove();
        if (eldest.getValue().dirty()) {
            setCurrentKey(eldest.getKey());
            write(eldest.getValue());
            setCurrentKey(current);
        }
    }

    /**
     * Copies go into state: the heap backend keeps the object it is given, and a checkpoint
     * still being written from it must not see the cache's later changes.
     */
    private void write(Cached c) throws Exception {
        if (c.merchantDirty) {
            merchant.update(c.merchant.copy());
            c.merchantDirty = false;
        }
        for (Map.Entry<String, BucketWindows> t : c.dirtyTerminals.entrySet()) {
            terminals.put(t.getKey(), t.getValue().copy());
        }
        c.dirtyTerminals.clear();
        if (c.newestDirty) {
            newest.update(c.newest);
            c.newestDirty = false;
        }
        if (c.merchantLabelsDirty) {
            merchantLabels.update(c.merchantLabels.copy());
            c.merchantLabelsDirty = false;
        }
        for (Map.Entry<String, LabelWindows> t : c.dirtyTerminalLabels.entrySet()) {
            terminalLabels.put(t.getKey(), t.getValue().copy());
        }
        c.dirtyTerminalLabels.clear();
    }

    /** Every change so far goes into keyed state before the state is snapshotted. */
    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        Object current = getCurrentKey();
        for (Map.Entry<String, Cached> entry : cache.entrySet()) {
            if (entry.getValue().dirty()) {
                setCurrentKey(entry.getKey());
                write(entry.getValue());
            }
        }
        if (current != null) {
            setCurrentKey(current);
        }
        super.snapshotState(context);
    }
}
