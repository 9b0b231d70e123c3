package io.fraudguard.features;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The registry's declarations compiled into per-entity plans: the one evaluation of the
 * features, run by the job's keyed steps and by the offline path. Each method adds the
 * transaction to its entity's state and writes that entity's features into {@code out} at
 * their registry positions.
 */
public final class FeatureKernel {
    static final int COUNT = 0, SUM = 1, MEAN = 2, MAX = 3, DISTINCT = 4;
    // Card events keep the amount plus these string columns; device events the card. The
    // terminal is kept for the card's previous sightings (see card()), not for a feature.
    static final List<String> CARD_COLUMNS =
            List.of("merchant_id", "country", "device_id", "terminal_id");
    /** No previous sighting. */
    public static final long NEVER = Long.MIN_VALUE;
    static final List<String> DEVICE_COLUMNS = List.of("card_id");

    /** One aggregate of a raw-event window: where it goes, what it does, on which column. */
    record Agg(int index, int op, int column) {}

    /** All the aggregates over one window length. */
    record RawWindow(long windowMs, Agg[] aggs) {}

    /**
     * A bucketed entity: (window, bucket) lengths, per window where count/sum/distinct go, and
     * room for one transaction's totals.
     */
    record BucketPlan(long[][] windows, int[][] slots, double[][] totals) {
        BucketPlan(long[][] windows, int[][] slots) {
            this(windows, slots, new double[windows.length][3]);
        }
    }

    /**
     * The label-fed features of one entity: where each goes, whether it is a fraud rate (else
     * the count of confirmed fraud), its window (0: ever), and how long labels are kept.
     */
    record LabelPlan(int[] index, boolean[] rate, long[] windowMs, long horizonMs) {
        boolean empty() {
            return index.length == 0;
        }

        /** Whether a fraud rate needs the entity's payments counted. */
        boolean countsPayments() {
            for (boolean r : rate) {
                if (r) {
                    return true;
                }
            }
            return false;
        }
    }

    /** Everything kept per card: the ids already answered and the card's recent payments. */
    public static final class CardState implements PackedState<CardState> {
        /**
         * The layout {@link #pack} writes; layout n holds the retried ids and the history each
         * in their layout n ({@link SeenTransactions}, {@link RawEvents}).
         */
        public static final int LAYOUT = 2;
        public final SeenTransactions seen;
        public final RawEvents history;

        CardState(SeenTransactions seen, RawEvents history) {
            this.seen = seen;
            this.history = history;
        }

        @Override
        public CardState copy() {
            return new CardState(seen.copy(), history.copy());
        }

        @Override
        public void pack(Packer p) {
            seen.pack(p);
            history.pack(p);
        }

        public static CardState unpack(Unpacker u) {
            return unpack(u, LAYOUT);
        }

        /** The state {@link #pack} wrote in {@code layout}. */
        public static CardState unpack(Unpacker u, int layout) {
            return new CardState(SeenTransactions.unpack(u, layout), RawEvents.unpack(u, layout));
        }
    }

    public final FeatureSpec spec;
    final int[] txnIndex;
    final String[] txnKinds;
    final RawWindow[] cardWindows;
    final int[] historyIndex;
    final String[] historyKinds;
    final RawWindow[] deviceWindows;
    final BucketPlan merchantPlan;
    final BucketPlan terminalPlan;
    final long cardHorizonMs;
    final long deviceHorizonMs;
    final LabelPlan merchantLabels;
    final LabelPlan terminalLabels;
    final LabelPlan cardLabels;
    private int[] scratch = new int[64]; // one kernel per operator: no thread shares it
    private long[] sortedCents = new long[64]; // the same

    public FeatureKernel(FeatureSpec spec) {
        this.spec = spec;
        List<Integer> txn = new ArrayList<>(), history = new ArrayList<>();
        for (int i = 0; i < spec.features.size(); i++) {
            FeatureSpec.Declaration f = spec.features.get(i);
            if (f.type().equals("txn")) {
                txn.add(i);
            } else if (f.type().equals("history")) {
                if (!f.entity().equals("card")) {
                    throw new IllegalArgumentException(f.name() + ": history is kept for cards only");
                }
                history.add(i);
            }
        }
        txnIndex = txn.stream().mapToInt(Integer::intValue).toArray();
        txnKinds = txn.stream().map(i -> spec.features.get(i).kind()).toArray(String[]::new);
        historyIndex = history.stream().mapToInt(Integer::intValue).toArray();
        historyKinds = history.stream().map(i -> spec.features.get(i).kind()).toArray(String[]::new);
        merchantLabels = labelPlan("merchant");
        terminalLabels = labelPlan("terminal");
        cardLabels = labelPlan("card");
        cardWindows = rawPlan("card", CARD_COLUMNS);
        deviceWindows = rawPlan("device", DEVICE_COLUMNS);
        merchantPlan = bucketPlan("merchant");
        terminalPlan = bucketPlan("terminal");
        long card = spec.historyMs;
        for (RawWindow w : cardWindows) {
            card = Math.max(card, w.windowMs());
        }
        long device = 0;
        for (RawWindow w : deviceWindows) {
            device = Math.max(device, w.windowMs());
        }
        // The card's history also answers when it was last seen at a merchant or terminal,
        // so it reaches back over their longest window plus one bucket.
        for (BucketPlan plan : new BucketPlan[] {merchantPlan, terminalPlan}) {
            for (long[] w : plan.windows()) {
                card = Math.max(card, w[0] + w[1]);
            }
        }
        cardHorizonMs = card;
        deviceHorizonMs = device;
    }

    private RawWindow[] rawPlan(String entity, List<String> columns) {
        TreeMap<Long, List<Agg>> plan = new TreeMap<>();
        for (int i = 0; i < spec.features.size(); i++) {
            FeatureSpec.Declaration f = spec.features.get(i);
            if (!f.type().equals("window") || !f.entity().equals(entity)) {
                continue;
            }
            int op = op(f);
            int column = -1;
            if (op == DISTINCT) {
                column = columns.indexOf(f.column());
                if (column < 0) {
                    throw new IllegalArgumentException(f.name() + ": " + entity
                            + " events keep no column " + f.column());
                }
            } else if (op != COUNT && !(entity.equals("card") && f.column().equals("amount_eur"))) {
                throw new IllegalArgumentException(f.name() + ": only card amounts are summed");
            }
            plan.computeIfAbsent(f.windowMs(), k -> new ArrayList<>()).add(new Agg(i, op, column));
        }
        return plan.descendingMap().entrySet().stream()
                .map(e -> new RawWindow(e.getKey(), e.getValue().toArray(Agg[]::new)))
                .toArray(RawWindow[]::new);
    }

    private BucketPlan bucketPlan(String entity) {
        TreeMap<Long, int[]> byWindow = new TreeMap<>();
        for (int i = 0; i < spec.features.size(); i++) {
            FeatureSpec.Declaration f = spec.features.get(i);
            if (!f.type().equals("window") || !f.entity().equals(entity)) {
                continue;
            }
            int op = op(f);
            if (!(op == COUNT || op == SUM || op == DISTINCT) || !spec.bucketMs.containsKey(f.windowMs())) {
                throw new IllegalArgumentException(
                        f.name() + ": buckets keep count, sum and distinct over 1h, 24h or 7d");
            }
            if (op != COUNT && !f.column().equals(op == DISTINCT ? "card_id" : "amount_eur")) {
                throw new IllegalArgumentException(f.name() + ": buckets sum amount_eur, count card_id");
            }
            int slot = op == COUNT ? 0 : op == SUM ? 1 : 2;
            byWindow.computeIfAbsent(f.windowMs(), k -> new int[] {-1, -1, -1})[slot] = i;
        }
        long[][] windows = new long[byWindow.size()][];
        int[][] slots = new int[byWindow.size()][];
        int w = 0;
        for (Map.Entry<Long, int[]> e : byWindow.entrySet()) {
            windows[w] = new long[] {e.getKey(), spec.bucketMs.get(e.getKey())};
            slots[w++] = e.getValue();
        }
        return new BucketPlan(windows, slots);
    }

    private LabelPlan labelPlan(String entity) {
        List<Integer> index = new ArrayList<>();
        for (int i = 0; i < spec.features.size(); i++) {
            FeatureSpec.Declaration f = spec.features.get(i);
            if (f.type().equals("label") && f.entity().equals(entity)) {
                boolean rate = f.kind().equals("fraud_rate");
                if (!rate && !f.kind().equals("confirmed_fraud")) {
                    throw new IllegalArgumentException(f.name() + ": unknown label feature " + f.kind());
                }
                if (rate == (f.windowMs() <= 0)) {
                    throw new IllegalArgumentException(
                            f.name() + ": a fraud rate has a window, confirmed fraud counts ever");
                }
                index.add(i);
            }
        }
        int n = index.size();
        int[] at = new int[n];
        boolean[] rate = new boolean[n];
        long[] window = new long[n];
        long horizon = 0;
        boolean ever = false;
        for (int k = 0; k < n; k++) {
            FeatureSpec.Declaration f = spec.features.get(index.get(k));
            at[k] = index.get(k);
            rate[k] = f.kind().equals("fraud_rate");
            window[k] = f.windowMs();
            horizon = Math.max(horizon, f.windowMs());
            ever |= !rate[k];
        }
        // A count of confirmed fraud keeps its labels for ever (a card's are few).
        return new LabelPlan(at, rate, window, ever ? 0 : horizon + spec.labelBucketMs);
    }

    private static int op(FeatureSpec.Declaration f) {
        return switch (f.agg()) {
            case "count" -> COUNT;
            case "sum" -> SUM;
            case "mean" -> MEAN;
            case "max" -> MAX;
            case "distinct" -> DISTINCT;
            default -> throw new IllegalArgumentException(f.name() + ": unknown aggregation " + f.agg());
        };
    }

    // -- transaction ------------------------------------------------------------------------

    /** Features of the transaction alone (time of day in UTC). */
    public void txn(Txn txn, double[] out) {
        long hour = Math.floorMod(Math.floorDiv(txn.tsMs(), 3_600_000L), 24L);
        long weekday = Math.floorMod(Math.floorDiv(txn.tsMs(), 86_400_000L) + 3, 7L); // Monday 0
        for (int k = 0; k < txnIndex.length; k++) {
            out[txnIndex[k]] = switch (txnKinds[k]) {
                case "amount_eur" -> txn.amountEur();
                case "hour" -> (double) hour;
                case "weekend" -> weekday >= 5 ? 1.0 : 0.0;
                case "night" -> hour < 6 ? 1.0 : 0.0;
                case "online" -> "online".equals(txn.channel()) ? 1.0 : 0.0;
                case "has_device" -> txn.deviceId() != null ? 1.0 : 0.0;
                default -> throw new IllegalArgumentException("unknown transaction feature " + txnKinds[k]);
            };
        }
    }

    // -- card: raw events, exact -------------------------------------------------------------

    public CardState newCardState(long dedupeTtlMs) {
        return new CardState(
                new SeenTransactions(dedupeTtlMs), new RawEvents(cardHorizonMs, CARD_COLUMNS.size()));
    }

    /**
     * Transaction-level and card features; false (and nothing written) for a transaction id the
     * card has already answered. {@code seen} receives when the card was last seen at this
     * merchant and at this terminal before this transaction ({@link #NEVER}: not within its
     * history), for {@link #merchant} and {@link #terminal}.
     */
    public boolean card(CardState state, Txn txn, double[] out, long[] seen) {
        if (!state.seen.firstTime(txn.txnId(), txn.tsMs())) {
            return false;
        }
        txn(txn, out);
        RawEvents events = state.history;
        int[] own = events.intern(txn.merchantId(), txn.country(), txn.deviceId(), txn.terminalId());
        seen[0] = events.lastAt(0, own[0], NEVER);
        seen[1] = events.lastAt(3, own[3], NEVER);
        long t = txn.tsMs();
        int hi = events.before(t);
        for (RawWindow window : cardWindows) {
            aggregate(events, events.windowStart(t, window.windowMs(), hi), hi,
                    txn.amountEur(), own, window.aggs(), out);
        }
        if (historyIndex.length > 0) {
            history(events, events.windowStart(t, spec.historyMs, hi), hi, txn, own, out);
        }
        events.add(t, txn.amountEur(), own);
        return true;
    }

    /** A work array of at least {@code n} ints for the events' counts, reused by the next call. */
    private int[] scratch(int n) {
        if (scratch.length < n) {
            scratch = new int[Math.max(n, 2 * scratch.length)];
        }
        return scratch;
    }

    private void aggregate(
            RawEvents events, int lo, int hi, double amount, int[] own, Agg[] aggs, double[] out) {
        int count = hi - lo + 1;
        long cents = -1; // summed once, for the sum and the mean alike
        for (Agg agg : aggs) {
            switch (agg.op()) {
                case COUNT -> out[agg.index()] = count;
                case SUM, MEAN -> {
                    if (cents < 0) {
                        cents = PyMath.cents(amount);
                        for (int i = lo; i < hi; i++) {
                            cents += events.cents[i];
                        }
                    }
                    out[agg.index()] = agg.op() == SUM
                            ? cents / 100.0
                            : PyMath.round(cents / (100.0 * count), 6);
                }
                case MAX -> {
                    // Amounts are whole cents, so the largest in cents is the largest amount.
                    long max = PyMath.cents(amount);
                    for (int i = lo; i < hi; i++) {
                        max = Math.max(max, events.cents[i]);
                    }
                    out[agg.index()] = max / 100.0;
                }
                default -> out[agg.index()] = // a missing device is not a device
                        events.distinct(agg.column(), lo, hi, own[agg.column()],
                                scratch(events.dictionarySize(agg.column())));
            }
        }
    }

    /** Comparisons with the card's previous 30 days (the transaction itself excluded). */
    private void history(RawEvents events, int lo, int hi, Txn txn, int[] own, double[] out) {
        int n = hi - lo;
        double amount = txn.amountEur();
        if (n == 0) {
            for (int k = 0; k < historyIndex.length; k++) {
                out[historyIndex[k]] = switch (historyKinds[k]) {
                    case "seconds_since_last" -> spec.noPrevious;
                    case "amount_ratio_30d" -> 1.0;
                    default -> 0.0;
                };
            }
            return;
        }
        // In order of amount, so that the spread does not depend on the order in which
        // simultaneous payments arrived.
        if (sortedCents.length < n) {
            sortedCents = new long[Math.max(n, 2 * sortedCents.length)];
        }
        long[] sorted = sortedCents;
        System.arraycopy(events.cents, lo, sorted, 0, n);
        Arrays.sort(sorted, 0, n);
        long cents = 0;
        for (int i = 0; i < n; i++) {
            cents += sorted[i];
        }
        double mean = cents / (100.0 * n);
        double spread = 0.0;
        if (n > 1) {
            double squares = 0.0;
            for (int i = 0; i < n; i++) {
                double d = sorted[i] / 100.0 - mean;
                squares += d * d;
            }
            spread = Math.sqrt(squares / n);
        }
        // Cross-border: the country is not among the card's most frequent ones (all of them,
        // when several share the top count, so arrival order never breaks a tie).
        int ownCountry = events.count(1, lo, hi, own[1]); // for cross-border and new-country
        boolean crossBorder = ownCountry < events.topCount(1, lo, hi, scratch(events.dictionarySize(1)));
        long previousTs = events.ts[hi - 1];
        for (int k = 0; k < historyIndex.length; k++) {
            out[historyIndex[k]] = switch (historyKinds[k]) {
                case "seconds_since_last" -> (double) (txn.tsMs() - previousTs) / 1000.0;
                case "amount_zscore_30d" -> spread > 0 ? PyMath.round((amount - mean) / spread, 6) : 0.0;
                case "amount_ratio_30d" -> mean > 0 ? PyMath.round(amount / mean, 6) : 1.0;
                case "new_country_30d" -> ownCountry > 0 ? 0.0 : 1.0;
                case "new_device_30d" ->
                        txn.deviceId() != null && events.count(2, lo, hi, own[2]) == 0 ? 1.0 : 0.0;
                case "cross_border" -> crossBorder ? 1.0 : 0.0;
                default -> throw new IllegalArgumentException("unknown history feature " + historyKinds[k]);
            };
        }
    }

    // -- device: raw events, exact -----------------------------------------------------------

    public RawEvents newDeviceState() {
        return new RawEvents(deviceHorizonMs, 1);
    }

    /** Features of the device; a transaction without a device (state null) gets zeros. */
    public void device(RawEvents state, Txn txn, double[] out) {
        if (state == null || txn.deviceId() == null) {
            for (RawWindow window : deviceWindows) {
                for (Agg agg : window.aggs()) {
                    out[agg.index()] = 0.0;
                }
            }
            return;
        }
        int[] own = state.intern(txn.cardId());
        long t = txn.tsMs();
        int hi = state.before(t);
        for (RawWindow window : deviceWindows) {
            aggregate(state, state.windowStart(t, window.windowMs(), hi), hi, 0.0, own,
                    window.aggs(), out);
        }
        state.add(t, 0.0, own);
    }

    // -- labels: what the bank learnt of earlier payments -------------------------------------

    /** Whether {@code entity} ("card", "merchant" or "terminal") has label-fed features. */
    public boolean hasLabelFeatures(String entity) {
        return labelPlan(entity, true) != null;
    }

    /** A new state of the labels of {@code entity}. */
    public LabelWindows newLabelState(String entity) {
        LabelPlan plan = labelPlan(entity, false);
        return new LabelWindows(plan.horizonMs(), spec.labelBucketMs);
    }

    /**
     * A fraud label of payment {@code txnId}, reported at {@code reportedMs}, for one of the
     * payment's entities; false when that payment was already labelled fraud there.
     */
    public boolean fraudLabel(LabelWindows state, String txnId, long reportedMs) {
        return state.addLabel(txnId, reportedMs);
    }

    /**
     * The label-fed features of {@code entity} for a payment at {@code tsMs}; a state of null
     * (an entity no label has named) reads as no label. An entity with fraud rates counts the
     * payment in its state first (the state must then not be null).
     */
    public void labelFeatures(String entity, LabelWindows state, long tsMs, double[] out) {
        LabelPlan plan = labelPlan(entity, false);
        if (plan.countsPayments()) {
            state.addPayment(tsMs);
        }
        for (int k = 0; k < plan.index().length; k++) {
            long window = plan.windowMs()[k];
            int fraud = state == null ? 0 : state.fraudLabels(tsMs, window);
            out[plan.index()[k]] = plan.rate()[k]
                    ? PyMath.round((double) fraud / state.payments(tsMs, window), 6)
                    : fraud;
        }
    }

    /** Whether the fraud rates of {@code entity} count its payments (its state then always
     * exists once it is paid at). */
    public boolean countsPayments(String entity) {
        return labelPlan(entity, false).countsPayments();
    }

    private LabelPlan labelPlan(String entity, boolean nullWhenEmpty) {
        LabelPlan plan = switch (entity) {
            case "card" -> cardLabels;
            case "merchant" -> merchantLabels;
            case "terminal" -> terminalLabels;
            default -> throw new IllegalArgumentException("labels feed no " + entity + " feature");
        };
        return nullWhenEmpty && plan.empty() ? null : plan;
    }

    // -- merchant and terminal: buckets, bounded ---------------------------------------------

    public BucketWindows newMerchantState() {
        return new BucketWindows(merchantPlan.windows());
    }

    public BucketWindows newTerminalState() {
        return new BucketWindows(terminalPlan.windows());
    }

    /** Merchant features; {@code seenMs}: the card's previous sighting here, from card(). */
    public void merchant(BucketWindows state, Txn txn, long seenMs, double[] out) {
        buckets(merchantPlan, state, txn, seenMs, out);
    }

    /** Terminal features; {@code seenMs}: the card's previous sighting here, from card(). */
    public void terminal(BucketWindows state, Txn txn, long seenMs, double[] out) {
        buckets(terminalPlan, state, txn, seenMs, out);
    }

    private static void buckets(
            BucketPlan plan, BucketWindows state, Txn txn, long seenMs, double[] out) {
        double[][] totals = plan.totals(); // reused: a kernel serves one thread
        state.add(txn.tsMs(), txn.amountEur(), txn.cardId(), seenMs == NEVER ? null : seenMs,
                totals);
        for (int w = 0; w < totals.length; w++) {
            for (int slot = 0; slot < 3; slot++) {
                int index = plan.slots()[w][slot];
                if (index >= 0) {
                    out[index] = totals[w][slot];
                }
            }
        }
    }
}
