package io.fraudguard.flink;

import io.fraudguard.features.FeatureKernel;
import io.fraudguard.features.FeatureSpec;
import io.fraudguard.features.LabelWindows;
import io.fraudguard.features.PackedState;
import io.fraudguard.features.RawEvents;
import org.apache.flink.api.common.functions.OpenContext;
import java.util.List;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * The card and device steps of the job (the merchant's is {@link MerchantStep}): the feature
 * kernel ({@code io.fraudguard.features}) with each entity's state in checkpointed Flink state.
 * Each step applies the kernel to its entity's transactions and writes that entity's features
 * into the record. In event-time order (the default) a transaction waits in keyed state until
 * the watermark passes it ({@link EventTimeOrder}, {@link EventClock}), so the features do not
 * depend on how partitions and parallel steps interleave; one already behind the watermark is
 * applied at once and marked late. In arrival order (for one partition whose producer keeps
 * order) each is applied as it comes, and one older than its entity's newest is marked late.
 * Fraud labels ({@link Enriched#label}) take the same path and wait the same way, at their report
 * time: a label behind the watermark is applied at once and marked late.
 */
public abstract class FeatureSteps extends KeyedProcessFunction<String, Enriched, Enriched> {
    private static final long serialVersionUID = 1L;
    private final String specJson;
    private final boolean inEventTimeOrder;
    protected transient FeatureKernel kernel;
    private transient ValueState<Long> newest;
    private transient MapState<Long, List<Enriched>> pending;

    protected FeatureSteps(String specJson, boolean inEventTimeOrder) {
        this.specJson = specJson;
        this.inEventTimeOrder = inEventTimeOrder;
    }

    @Override
    public void open(OpenContext context) throws Exception {
        kernel = new FeatureKernel(FeatureSpec.parse(specJson));
        newest = getRuntimeContext().getState(new ValueStateDescriptor<>("newest", Types.LONG));
        pending = getRuntimeContext().getMapState(
                EventTimeOrder.pendingState(TypeInformation.of(Enriched.class)));
        openState();
    }

    protected abstract void openState();

    /** The kernel's step for one transaction, in processing order. */
    protected abstract void apply(Enriched e, Collector<Enriched> out) throws Exception;

    @Override
    public void processElement(Enriched e, Context ctx, Collector<Enriched> out) throws Exception {
        if (inEventTimeOrder) {
            if (e.tsMs > ctx.timerService().currentWatermark()) {
                EventTimeOrder.hold(pending, e.tsMs, e);
                ctx.timerService().registerEventTimeTimer(e.tsMs);
                return;
            }
            e.late = true;
        }
        apply(e, out);
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<Enriched> out)
            throws Exception {
        for (Enriched e :
                EventTimeOrder.takeDue(pending, timestamp, EventTimeOrder.PROCESSING_ORDER)) {
            apply(e, out);
        }
    }

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

    /**
     * Keyed by card: drop retried ids, then transaction-level, card and label-fed features; a
     * fraud label goes into the card's labels and on to the merchant step.
     */
    public static class Card extends FeatureSteps {
        private static final long serialVersionUID = 1L;
        private final long dedupeTtlMs;
        private transient ValueState<FeatureKernel.CardState> card;
        private transient ValueState<LabelWindows> labels;
        private transient boolean labelFed;
        private transient Counter lateLabels;
        private transient long[] seen; // reused: previous sightings at merchant and terminal

        public Card(String specJson, long dedupeTtlMs, boolean inEventTimeOrder) {
            super(specJson, inEventTimeOrder);
            this.dedupeTtlMs = dedupeTtlMs;
        }

        @Override
        protected void openState() {
            card = valueState("card", new KernelStateSerializer.Card());
            labels = valueState("card-labels", new KernelStateSerializer.Labels());
            labelFed = kernel.hasLabelFeatures("card");
            lateLabels = getRuntimeContext().getMetricGroup()
                    .addGroup("fraudguard").addGroup("labels").counter("late_total"); // LABELS_LATE
            seen = new long[2];
        }

        @Override
        protected void apply(Enriched e, Collector<Enriched> out) throws Exception {
            if (e.label) {
                if (e.late) {
                    lateLabels.inc(); // applied on arrival: payments before it may not see it
                }
                if (labelFed) {
                    LabelWindows known = labels.value();
                    if (known == null) {
                        known = kernel.newLabelState("card");
                    }
                    if (kernel.fraudLabel(known, e.txnId, e.tsMs)) {
                        labels.update(known);
                    }
                }
                out.collect(e);
                return;
            }
            FeatureKernel.CardState state = card.value();
            if (state == null) {
                state = kernel.newCardState(dedupeTtlMs);
            }
            if (!kernel.card(state, e.txn(), e.features, seen)) {
                return; // a retry of a transaction already answered
            }
            e.seenAtMerchantMs = seen[0];
            e.seenAtTerminalMs = seen[1];
            card.update(state);
            if (labelFed) {
                kernel.labelFeatures("card", labels.value(), e.tsMs, e.features);
            }
            e.late = arrivedLate(e.tsMs) || e.late;
            out.collect(e);
        }
    }

    /**
     * Keyed by device: how many cards it has paid with. Payments without a device keep no state.
     * The last of the steps: fraud labels end here.
     */
    public static class Device extends FeatureSteps {
        private static final long serialVersionUID = 1L;
        private transient ValueState<RawEvents> device;

        public Device(String specJson, boolean inEventTimeOrder) {
            super(specJson, inEventTimeOrder);
        }

        @Override
        protected void openState() {
            device = valueState("device", new KernelStateSerializer.Events());
        }

        @Override
        public void processElement(Enriched e, Context ctx, Collector<Enriched> out) throws Exception {
            if (e.deviceId == null) {
                apply(e, out); // no state, so no order to keep
            } else {
                super.processElement(e, ctx, out);
            }
        }

        @Override
        protected void apply(Enriched e, Collector<Enriched> out) throws Exception {
            if (e.label) {
                return;
            }
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
