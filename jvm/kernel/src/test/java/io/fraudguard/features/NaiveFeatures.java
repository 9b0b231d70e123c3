package io.fraudguard.features;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.DayOfWeek;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The brute-force reading of each declaration, which the kernel is tested against: a
 * transaction at {@code t} sees its entity's earlier events with {@code t - W < ts < t} plus
 * itself; card and device windows exactly, merchant and terminal windows over whole buckets
 * (from the bucket after the one holding {@code t - W}), the card's history over its previous
 * 30 days. It keeps every transaction it is shown, by entity, and scans all of an entity's
 * for every value: slow, plainly right, and sharing no code with the kernel. Label-fed features
 * count the distinct payments of the entity labelled fraud by a label shown earlier and reported
 * before {@code t} (in the window), per payment of the entity in the window's whole buckets.
 */
final class NaiveFeatures {
    private final FeatureSpec spec;
    private final Map<String, List<Txn>> shown = new HashMap<>(); // by "entity:key"
    private final List<FraudLabel> labels = new ArrayList<>();

    NaiveFeatures(FeatureSpec spec) {
        this.spec = spec;
    }

    /** The value of every declaration for {@code txn}, in registry order; then keeps it. */
    double[] next(Txn txn) {
        double[] out = new double[spec.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = value(spec.features.get(i), txn);
        }
        for (String entity : List.of("card", "merchant", "terminal", "device")) {
            shown.computeIfAbsent(entity + ":" + key(entity, txn), k -> new ArrayList<>()).add(txn);
        }
        return out;
    }

    /** Keeps a fraud label, shown in processing order among the transactions. */
    void label(FraudLabel label) {
        labels.add(label);
    }

    private double labelFed(FeatureSpec.Declaration f, Txn txn) {
        long t = txn.tsMs(), w = f.windowMs();
        Map<String, Long> first = new HashMap<>(); // payment -> its first label's report time
        for (FraudLabel l : labels) {
            String key = switch (f.entity()) {
                case "card" -> l.cardId();
                case "merchant" -> l.merchantId();
                default -> l.terminalId();
            };
            if (key.equals(key(f.entity(), txn))) {
                first.putIfAbsent(l.txnId(), l.reportedMs());
            }
        }
        long fraud = first.values().stream()
                .filter(r -> r < t && (w == 0 || r > t - w)).count();
        if (f.kind().equals("confirmed_fraud")) {
            return fraud;
        }
        long bucket = spec.labelBucketMs, from = Math.floorDiv(t - w, bucket) + 1;
        long payments = 1; // itself
        for (Txn e : shown.getOrDefault(f.entity() + ":" + key(f.entity(), txn), List.of())) {
            long b = Math.floorDiv(e.tsMs(), bucket);
            if (b >= from && b <= Math.floorDiv(t, bucket)) {
                payments++;
            }
        }
        return new BigDecimal((double) fraud / payments)
                .setScale(6, RoundingMode.HALF_EVEN).doubleValue();
    }

    private double value(FeatureSpec.Declaration f, Txn txn) {
        return switch (f.type()) {
            case "txn" -> transaction(f.kind(), txn);
            case "history" -> history(f.kind(), txn);
            case "label" -> labelFed(f, txn);
            default -> window(f, txn);
        };
    }

    static String key(String entity, Txn t) {
        return switch (entity) {
            case "card" -> t.cardId();
            case "merchant" -> t.merchantId();
            case "terminal" -> t.terminalId();
            case "device" -> t.deviceId();
            default -> throw new IllegalArgumentException(entity);
        };
    }

    private static String column(String name, Txn t) {
        return switch (name) {
            case "card_id" -> t.cardId();
            case "merchant_id" -> t.merchantId();
            case "country" -> t.country();
            case "device_id" -> t.deviceId();
            default -> throw new IllegalArgumentException(name);
        };
    }

    private static long cents(double eur) {
        return Math.round(eur * 100);
    }

    /** Python's {@code round(x, digits)}: the exact binary value, half to even. */
    static double pythonRound(double x, int digits) {
        return new BigDecimal(x).setScale(digits, RoundingMode.HALF_EVEN).doubleValue();
    }

    /** The entity's transactions shown so far with {@code loMs < ts < txn}, then txn itself. */
    private List<Txn> inside(String entity, Txn txn, long loMs) {
        List<Txn> out = new ArrayList<>();
        for (Txn p : shown.getOrDefault(entity + ":" + key(entity, txn), List.of())) {
            if (loMs < p.tsMs() && p.tsMs() < txn.tsMs()) {
                out.add(p);
            }
        }
        out.add(txn);
        return out;
    }

    private double window(FeatureSpec.Declaration f, Txn txn) {
        if (key(f.entity(), txn) == null) {
            return 0.0; // a payment without a device has no device features
        }
        long t = txn.tsMs();
        long lo = t - f.windowMs();
        if (f.entity().equals("merchant") || f.entity().equals("terminal")) {
            long bucket = spec.bucketMs.get(f.windowMs());
            lo = (Math.floorDiv(t, bucket) - f.windowMs() / bucket + 1) * bucket - 1;
        }
        List<Txn> in = inside(f.entity(), txn, lo);
        long sum = 0;
        double max = Double.NEGATIVE_INFINITY;
        Set<String> values = new HashSet<>();
        for (Txn p : in) {
            sum += cents(p.amountEur());
            max = Math.max(max, p.amountEur());
            if (f.agg().equals("distinct") && column(f.column(), p) != null) {
                values.add(column(f.column(), p));
            }
        }
        return switch (f.agg()) {
            case "count" -> in.size();
            case "sum" -> sum / 100.0;
            case "mean" -> pythonRound(sum / (100.0 * in.size()), 6);
            case "max" -> max;
            case "distinct" -> values.size();
            default -> throw new IllegalArgumentException(f.agg());
        };
    }

    private static double transaction(String kind, Txn txn) {
        ZonedDateTime at = Instant.ofEpochMilli(txn.tsMs()).atZone(ZoneOffset.UTC);
        DayOfWeek day = at.getDayOfWeek();
        return switch (kind) {
            case "amount_eur" -> txn.amountEur();
            case "hour" -> at.getHour();
            case "weekend" -> day == DayOfWeek.SATURDAY || day == DayOfWeek.SUNDAY ? 1 : 0;
            case "night" -> at.getHour() < 6 ? 1 : 0;
            case "online" -> txn.channel().equals("online") ? 1 : 0;
            case "has_device" -> txn.deviceId() != null ? 1 : 0;
            default -> throw new IllegalArgumentException(kind);
        };
    }

    private double history(String kind, Txn txn) {
        List<Txn> before = inside("card", txn, txn.tsMs() - spec.historyMs);
        before.remove(before.size() - 1); // the transaction itself is not its own history
        if (before.isEmpty()) {
            return switch (kind) {
                case "seconds_since_last" -> spec.noPrevious;
                case "amount_ratio_30d" -> 1.0;
                default -> 0.0;
            };
        }
        int n = before.size();
        long sum = 0;
        long last = Long.MIN_VALUE;
        Map<String, Integer> countries = new HashMap<>();
        Set<String> devices = new HashSet<>();
        for (Txn p : before) {
            sum += cents(p.amountEur());
            last = Math.max(last, p.tsMs());
            countries.merge(p.country(), 1, Integer::sum);
            devices.add(p.deviceId());
        }
        double mean = sum / (100.0 * n);
        double squares = 0;
        for (Txn p : before) {
            squares += (p.amountEur() - mean) * (p.amountEur() - mean);
        }
        double spread = Math.sqrt(squares / n);
        double amount = txn.amountEur();
        int top = countries.values().stream().max(Integer::compare).orElseThrow();
        return switch (kind) {
            case "seconds_since_last" -> (txn.tsMs() - last) / 1000.0;
            case "amount_zscore_30d" -> spread > 0 && n > 1 ? (amount - mean) / spread : 0.0;
            case "amount_ratio_30d" -> amount / mean;
            case "new_country_30d" -> countries.containsKey(txn.country()) ? 0 : 1;
            case "new_device_30d" -> txn.deviceId() != null && !devices.contains(txn.deviceId()) ? 1 : 0;
            case "cross_border" -> countries.getOrDefault(txn.country(), 0) < top ? 1 : 0;
            default -> throw new IllegalArgumentException(kind);
        };
    }
}
