"""Evaluates the registry's declarations, one entity at a time, for the job and the offline path.

The streaming job calls :meth:`FeatureEngine.card`, :meth:`~FeatureEngine.merchant`,
:meth:`~FeatureEngine.terminal` and :meth:`~FeatureEngine.device` from keyed operators with the
entity's checkpointed state; :func:`fraudguard.features.offline.build_features` calls the same
methods with states held in dictionaries. Each method adds the transaction to the state and
returns the entity's features for it, so the values cannot differ between the two.

>>> from fraudguard.schema import Transaction
>>> engine = FeatureEngine()
>>> def txn(i, ts, amount):
...     return Transaction(f"t{i}", "", ts, "c1", "u1", "m1", "m1-t1", amount, "EUR", "5411",
...                        "FR", "online", "d1")
>>> state = engine.new_card_state()
>>> _ = engine.card(state, txn(1, 0, 10.0))
>>> f = engine.card(state, txn(2, 120_000, 30.0))
>>> f["card_count_10m"], f["card_sum_amount_eur_10m"], f["card_seconds_since_last"]
(2.0, 40.0, 120.0)
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, MutableMapping

from fraudguard.currency import to_eur
from fraudguard.features.registry import (
    FEATURES,
    Feature,
    HistoryFeature,
    TxnFeature,
    WindowFeature,
    feature_name,
)
from fraudguard.features.windows import MINUTE_MS, BucketWindows, RawEventWindows
from fraudguard.schema import Transaction

Features = dict[str, float]

NO_PREVIOUS = -1.0
"""``seconds_since_last`` of a card's first transaction in 30 days."""

_CARD_COLUMNS = {"amount_eur": 0, "merchant_id": 1, "country": 2, "device_id": 3}
_DEVICE_COLUMNS = {"card_id": 0}
_HISTORY_MS = 30 * 86_400_000


class FeatureEngine:
    """The registry's declarations compiled into per-entity evaluation plans."""

    def __init__(self, features: tuple[Feature, ...] = FEATURES) -> None:
        self.features = features
        self.txn_kinds = [(feature_name(f), f.kind) for f in features if isinstance(f, TxnFeature)]
        self.card_windows = _raw_plan(features, "card", _CARD_COLUMNS)
        self.card_history = [
            (feature_name(f), f.kind)
            for f in features
            if isinstance(f, HistoryFeature) and f.entity == "card"
        ]
        self.device_windows = _raw_plan(features, "device", _DEVICE_COLUMNS)
        self.bucket_plans = {
            entity: _bucket_plan(features, entity) for entity in ("merchant", "terminal")
        }
        self.card_horizon_ms = max(
            [_HISTORY_MS] + [w for w, _ in self.card_windows],
        )
        self.device_horizon_ms = max([0] + [w for w, _ in self.device_windows])

    # -- transaction --------------------------------------------------------------------

    def txn(self, txn: Transaction) -> Features:
        """Features of the transaction alone (time of day in UTC)."""
        ts = txn.ts_ms
        hour = (ts // 3_600_000) % 24
        weekday = (ts // 86_400_000 + 3) % 7  # 1970-01-01 was a Thursday; Monday is 0
        values = {
            "amount_eur": to_eur(txn.amount, txn.currency),
            "hour": float(hour),
            "weekend": float(weekday >= 5),
            "night": float(hour < 6),
            "online": float(txn.channel == "online"),
            "has_device": float(txn.device_id is not None),
        }
        return {name: values[kind] for name, kind in self.txn_kinds}

    # -- card: raw events, exact ----------------------------------------------------------

    def new_card_state(self) -> RawEventWindows:
        return RawEventWindows(self.card_horizon_ms)

    def card(self, state: RawEventWindows, txn: Transaction) -> Features:
        amount = to_eur(txn.amount, txn.currency)
        t = txn.ts_ms
        own = (amount, txn.merchant_id, txn.country, txn.device_id)
        out: Features = {}
        for window_ms, aggs in self.card_windows:
            lo, hi = state.window(t, window_ms)
            _aggregate(state, lo, hi, own, aggs, out)
        if self.card_history:
            lo, hi = state.window(t, _HISTORY_MS)
            previous_ts = state.ts[hi - 1] if hi > lo else None
            history = _card_history(state.values[lo:hi], amount, txn, t, previous_ts)
            for name, kind in self.card_history:
                out[name] = history[kind]
        state.add(t, own)
        return out

    # -- device: raw events, exact ---------------------------------------------------------

    def new_device_state(self) -> RawEventWindows:
        return RawEventWindows(self.device_horizon_ms)

    def device(self, state: RawEventWindows | None, txn: Transaction) -> Features:
        """Features of the device; a transaction without a device gets zeros."""
        out: Features = {}
        if state is None or txn.device_id is None:
            for _, aggs in self.device_windows:
                for name, _agg, _col in aggs:
                    out[name] = 0.0
            return out
        own = (txn.card_id,)
        for window_ms, aggs in self.device_windows:
            lo, hi = state.window(txn.ts_ms, window_ms)
            _aggregate(state, lo, hi, own, aggs, out)
        state.add(txn.ts_ms, own)
        return out

    # -- merchant and terminal: minute buckets, bounded -----------------------------------

    def new_bucket_state(
        self, entity: str, last_seen: MutableMapping[Hashable, int] | None = None
    ) -> BucketWindows:
        windows, _ = self.bucket_plans[entity]
        return BucketWindows(windows, last_seen)

    def buckets(self, entity: str, state: BucketWindows, txn: Transaction) -> Features:
        """Merchant or terminal features: count, sum and distinct cards per window."""
        _, names = self.bucket_plans[entity]
        totals = state.add(txn.ts_ms, to_eur(txn.amount, txn.currency), txn.card_id)
        out: Features = {}
        for (count_name, sum_name, distinct_name), (count, total, distinct) in zip(
            names, totals, strict=True
        ):
            if count_name:
                out[count_name] = float(count)
            if sum_name:
                out[sum_name] = total
            if distinct_name:
                out[distinct_name] = float(distinct)
        return out

    def merchant(self, state: BucketWindows, txn: Transaction) -> Features:
        return self.buckets("merchant", state, txn)

    def terminal(self, state: BucketWindows, txn: Transaction) -> Features:
        return self.buckets("terminal", state, txn)


def _raw_plan(
    features: tuple[Feature, ...], entity: str, columns: dict[str, int]
) -> list[tuple[int, list[tuple[str, str, int]]]]:
    """Per window (longest first): the (name, aggregation, column index) to compute."""
    plan: dict[int, list[tuple[str, str, int]]] = {}
    for f in features:
        if isinstance(f, WindowFeature) and f.entity == entity:
            column = -1 if f.agg == "count" else columns[f.column]
            plan.setdefault(f.window_ms, []).append((feature_name(f), f.agg, column))
    return sorted(plan.items(), reverse=True)


BUCKET_MS: dict[int, int] = {
    3_600_000: MINUTE_MS,
    86_400_000: 5 * MINUTE_MS,
    7 * 86_400_000: 30 * MINUTE_MS,
}
"""Bucket width of each bucketed window: the most a window can leave out at its old edge."""


def _bucket_plan(
    features: tuple[Feature, ...], entity: str
) -> tuple[tuple[tuple[int, int], ...], list[tuple[str, str, str]]]:
    """(window, bucket) lengths in ms, and per window the names of its count, sum, distinct."""
    by_window: dict[int, dict[str, str]] = {}
    for f in features:
        if isinstance(f, WindowFeature) and f.entity == entity:
            if f.agg not in ("count", "sum", "distinct") or f.window_ms not in BUCKET_MS:
                raise ValueError(
                    f"{feature_name(f)}: buckets keep count, sum and distinct over 1h, 24h or 7d"
                )
            if f.agg != "count" and f.column != (
                "card_id" if f.agg == "distinct" else "amount_eur"
            ):
                raise ValueError(f"{feature_name(f)}: buckets sum amount_eur, count card_id")
            by_window.setdefault(f.window_ms, {})[f.agg] = feature_name(f)
    lengths = tuple(sorted(by_window))
    windows = tuple((w, BUCKET_MS[w]) for w in lengths)
    names = [
        (
            by_window[m].get("count", ""),
            by_window[m].get("sum", ""),
            by_window[m].get("distinct", ""),
        )
        for m in lengths
    ]
    return windows, names


def _aggregate(
    state: RawEventWindows,
    lo: int,
    hi: int,
    own: tuple[object, ...],
    aggs: list[tuple[str, str, int]],
    out: Features,
) -> None:
    """Aggregates over the earlier events ``[lo, hi)`` plus the transaction's own ``own``."""
    values = state.values
    count = hi - lo + 1
    for name, agg, column in aggs:
        if agg == "count":
            out[name] = float(count)
            continue
        col = [v[column] for v in values[lo:hi]]
        col.append(own[column])
        if agg == "sum":
            out[name] = round(sum(col), 6)  # type: ignore[arg-type]
        elif agg == "mean":
            out[name] = round(sum(col) / count, 6) if count else 0.0  # type: ignore[arg-type]
        elif agg == "max":
            out[name] = float(max(col)) if col else 0.0  # type: ignore[type-var,arg-type]
        else:  # distinct; a missing device is not a device
            out[name] = float(len({v for v in col if v is not None}))


def _card_history(
    prior: list[tuple[object, ...]],
    amount: float,
    txn: Transaction,
    t: int,
    previous_ts: int | None,
) -> dict[str, float]:
    """Comparisons with the card's previous 30 days (the transaction itself excluded)."""
    if not prior:
        return {
            "seconds_since_last": NO_PREVIOUS,
            "amount_zscore_30d": 0.0,
            "amount_ratio_30d": 1.0,
            "new_country_30d": 0.0,
            "new_device_30d": 0.0,
            "cross_border": 0.0,
        }
    amounts = [float(v[0]) for v in prior]  # type: ignore[arg-type]
    n = len(amounts)
    mean = sum(amounts) / n
    # Two passes in plain floats: statistics.pstdev is exact but about 30x slower. Squares are
    # products and the root is sqrt, both correctly rounded, so the JVM kernel gets the same bits.
    spread = math.sqrt(sum((a - mean) * (a - mean) for a in amounts) / n) if n > 1 else 0.0
    countries = Counter(v[2] for v in prior)
    devices = {v[3] for v in prior}
    home = countries.most_common(1)[0][0]
    return {
        "seconds_since_last": (t - previous_ts) / 1000 if previous_ts is not None else NO_PREVIOUS,
        "amount_zscore_30d": round((amount - mean) / spread, 6) if spread > 0 else 0.0,
        "amount_ratio_30d": round(amount / mean, 6) if mean > 0 else 1.0,
        "new_country_30d": float(txn.country not in countries),
        "new_device_30d": float(txn.device_id is not None and txn.device_id not in devices),
        "cross_border": float(txn.country != home),
    }
