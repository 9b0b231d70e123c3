package io.fraudguard.flink;

import io.fraudguard.features.BucketWindows;
import io.fraudguard.features.FeatureKernel;
import io.fraudguard.features.FeatureSpec;
import io.fraudguard.features.LastSeen;
import io.fraudguard.features.PackedState;
import io.fraudguard.features.RawEvents;
import io.fraudguard.features.Txn;
import java.time.Duration;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.common.typeutils.base.StringSerializer;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * The keyed feature steps of the job: the feature kernel ({@code io.fraudguard.features})
 * with each entity's state in checkpointed Flink state. Each step applies the kernel to its
 * entity's transactions in arrival order and writes that entity's features into the record;
 * a transaction that arrives after a later one of the same entity is marked late.
 */
public abstract class FeatureSteps extends KeyedProcessFunction<String, Enriched, Enriched> {
    private static final long serialVersionUID = 1L;
    private final String specJson;
    protected transient FeatureKernel kernel;
    private transient ValueState<Long> newest;

    protected FeatureSteps(String specJson) {
        this.specJson = specJson;
    }

    @Override
    public void open(OpenContext context) throws Exception {
        kernel = new FeatureKernel(FeatureSpec.parse(specJson));
        newest = getRuntimeContext().getState(new ValueStateDescriptor<>("newest", Types.LONG));
        openState();
    }

    protected abstract void openState();

    /** Remembers the key's newest event time; true when {@code tsMs} is older than it. */
    protected boolean arrivedLate(long tsMs) throws Exception {
        Long seen = newest.value();
        if (seen == null || tsMs >= seen) {
            newest.update(tsMs);
            return false;
        }
        return true;
    }

    protected <T extends PackedState<T>> ValueState<T> valueState(
            String name, KernelStateSerializer<T> serializer) {
        return getRuntimeContext().getState(new ValueStateDescriptor<>(name, serializer));
    }

    /** Keyed by card: drop retried ids, then transaction-level and card features. */
    public static class Card extends FeatureSteps {
        private static final long serialVersionUID = 1L;
        private final long dedupeTtlMs;
        private transient ValueState<FeatureKernel.CardState> card;

        public Card(String specJson, long dedupeTtlMs) {
            super(specJson);
            this.dedupeTtlMs = dedupeTtlMs;
        }

        @Override
        protected void openState() {
            card = valueState("card", new KernelStateSerializer.Card());
        }

        @Override
        public void processElement(Enriched e, Context ctx, Collector<Enriched> out) throws Exception {
            FeatureKernel.CardState state = card.value();
            if (state == null) {
                state = kernel.newCardState(dedupeTtlMs);
            }
            if (!kernel.card(state, e.txn(), e.features)) {
                return; // a retry of a transaction already answered
            }
            card.update(state);
            e.late = arrivedLate(e.tsMs);
            out.collect(e);
        }
    }

    /**
     * Keyed by merchant and card: when the card was last seen at the merchant and at each of its
     * terminals, for the merchant step's distinct-card counts. Kept per pair rather than as one
     * map per merchant: a busy merchant's map held hundreds of thousands of cards, which the heap
     * backend copied whole on access while a checkpoint was being written.
     */
    public static class Sightings extends KeyedProcessFunction<String, Enriched, Enriched> {
        private static final long serialVersionUID = 1L;
        private transient ValueState<Long> atMerchant;
        private transient MapState<String, Long> atTerminal;

        @Override
        public void open(OpenContext context) {
            // A sighting matters for 7 days; after that an entry is dead weight (a missing
            // entry and an expired one count the same), so Flink may drop it.
            StateTtlConfig ttl = StateTtlConfig.newBuilder(Duration.ofDays(8))
                    .setUpdateType(StateTtlConfig.UpdateType.OnCreateAndWrite)
                    .setStateVisibility(StateTtlConfig.StateVisibility.NeverReturnExpired)
                    .cleanupFullSnapshot()
                    .build();
            ValueStateDescriptor<Long> merchant = new ValueStateDescriptor<>("merchant", Types.LONG);
            merchant.enableTimeToLive(ttl);
            atMerchant = getRuntimeContext().getState(merchant);
            MapStateDescriptor<String, Long> terminals =
                    new MapStateDescriptor<>("terminals", Types.STRING, Types.LONG);
            terminals.enableTimeToLive(ttl);
            atTerminal = getRuntimeContext().getMapState(terminals);
        }

        @Override
        public void processElement(Enriched e, Context ctx, Collector<Enriched> out) throws Exception {
            Long merchant = atMerchant.value();
            if (merchant == null || e.tsMs > merchant) {
                atMerchant.update(e.tsMs);
            }
            Long terminal = atTerminal.get(e.terminalId);
            if (terminal == null || e.tsMs > terminal) {
                atTerminal.put(e.terminalId, e.tsMs);
            }
            e.seenAtMerchantMs = merchant == null ? Enriched.NEVER : merchant;
            e.seenAtTerminalMs = terminal == null ? Enriched.NEVER : terminal;
            out.collect(e);
        }
    }

    /**
     * Keyed by merchant: merchant and terminal features from time buckets, with the card's
     * previous sightings as the sightings step found them.
     */
    public static class Merchant extends FeatureSteps {
        private static final long serialVersionUID = 1L;
        private transient ValueState<BucketWindows> merchant;
        private transient MapState<String, BucketWindows> terminals;

        public Merchant(String specJson) {
            super(specJson);
        }

        @Override
        protected void openState() {
            merchant = valueState("merchant", new KernelStateSerializer.Buckets());
            terminals = getRuntimeContext().getMapState(new MapStateDescriptor<>(
                    "terminals", StringSerializer.INSTANCE,
                    new KernelStateSerializer.Buckets()));
        }

        private static LastSeen sighting(long seenMs) {
            return LastSeen.lookedUp(seenMs == Enriched.NEVER ? null : seenMs);
        }

        @Override
        public void processElement(Enriched e, Context ctx, Collector<Enriched> out) throws Exception {
            Txn txn = e.txn();
            BucketWindows m = merchant.value();
            if (m == null) {
                m = kernel.newMerchantState(null);
            }
            m.lastSeen = sighting(e.seenAtMerchantMs);
            kernel.merchant(m, txn, e.features);
            merchant.update(m);
            BucketWindows t = terminals.get(e.terminalId);
            if (t == null) {
                t = kernel.newTerminalState(null);
            }
            t.lastSeen = sighting(e.seenAtTerminalMs);
            kernel.terminal(t, txn, e.features);
            terminals.put(e.terminalId, t);
            e.late = arrivedLate(e.tsMs) || e.late;
            out.collect(e);
        }
    }

    /** Keyed by device: how many cards it has paid with. Payments without a device keep no state. */
    public static class Device extends FeatureSteps {
        private static final long serialVersionUID = 1L;
        private transient ValueState<RawEvents> device;

        public Device(String specJson) {
            super(specJson);
        }

        @Override
        protected void openState() {
            device = valueState("device", new KernelStateSerializer.Events());
        }

        @Override
        public void processElement(Enriched e, Context ctx, Collector<Enriched> out) throws Exception {
            if (e.deviceId == null) {
                kernel.device(null, e.txn(), e.features);
            } else {
                RawEvents state = device.value();
                if (state == null) {
                    state = kernel.newDeviceState();
                }
                kernel.device(state, e.txn(), e.features);
                device.update(state);
                e.late = arrivedLate(e.tsMs) || e.late;
            }
            out.collect(e);
        }
    }
}
