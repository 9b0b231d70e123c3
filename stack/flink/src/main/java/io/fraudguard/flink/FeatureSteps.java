package io.fraudguard.flink;

import io.fraudguard.features.BucketWindows;
import io.fraudguard.features.FeatureKernel;
import io.fraudguard.features.FeatureSpec;
import io.fraudguard.features.LastSeen;
import io.fraudguard.features.RawEvents;
import io.fraudguard.features.Txn;
import java.time.Duration;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * The three keyed feature steps of the job: the feature kernel ({@code io.fraudguard.features})
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

    protected <T> ValueState<T> valueState(String name, Class<T> type) {
        return getRuntimeContext().getState(new ValueStateDescriptor<>(name, TypeInformation.of(type)));
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
            card = valueState("card", FeatureKernel.CardState.class);
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

    /** Keyed by merchant: merchant and terminal features from time buckets. */
    public static class Merchant extends FeatureSteps {
        private static final long serialVersionUID = 1L;
        private transient ValueState<BucketWindows> merchant;
        private transient MapState<String, BucketWindows> terminals;
        private transient MapState<String, Long> lastSeen;
        private transient LastSeen merchantSeen;

        public Merchant(String specJson) {
            super(specJson);
        }

        @Override
        protected void openState() {
            merchant = valueState("merchant", BucketWindows.class);
            terminals = getRuntimeContext().getMapState(new MapStateDescriptor<>(
                    "terminals", Types.STRING, TypeInformation.of(BucketWindows.class)));
            MapStateDescriptor<String, Long> seen =
                    new MapStateDescriptor<>("last-seen", Types.STRING, Types.LONG);
            // A card's last sighting matters for 7 days; after that an entry is dead weight (a
            // missing entry and an expired one count the same), so Flink may drop it.
            seen.enableTimeToLive(StateTtlConfig.newBuilder(Duration.ofDays(8))
                    .setUpdateType(StateTtlConfig.UpdateType.OnCreateAndWrite)
                    .setStateVisibility(StateTtlConfig.StateVisibility.NeverReturnExpired)
                    .cleanupFullSnapshot()
                    .build());
            lastSeen = getRuntimeContext().getMapState(seen);
            merchantSeen = view("m:"); // keyed state: the view reads the current key's map
        }

        private LastSeen view(String prefix) {
            return new LastSeen() {
                @Override
                public Long get(String key) throws Exception {
                    return lastSeen.get(prefix + key);
                }

                @Override
                public void put(String key, long tsMs) throws Exception {
                    lastSeen.put(prefix + key, tsMs);
                }
            };
        }

        @Override
        public void processElement(Enriched e, Context ctx, Collector<Enriched> out) throws Exception {
            Txn txn = e.txn();
            BucketWindows m = merchant.value();
            if (m == null) {
                m = kernel.newMerchantState(null);
            }
            m.lastSeen = merchantSeen;
            kernel.merchant(m, txn, e.features);
            merchant.update(m);
            BucketWindows t = terminals.get(e.terminalId);
            if (t == null) {
                t = kernel.newTerminalState(null);
            }
            t.lastSeen = view("t:" + e.terminalId + ":");
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
            device = valueState("device", RawEvents.class);
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
