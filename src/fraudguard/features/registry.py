"""The feature registry: every feature is one declaration, and its name comes from one function.

The streaming job, ``fraudguard features build`` (training) and replay all evaluate these
declarations with one feature kernel (``io.fraudguard.features``, on the JVM), which receives
them as JSON from :func:`~fraudguard.features.spec.feature_spec`; nothing about a feature is
written twice.

>>> feature_name(WindowFeature("card", "sum", "amount_eur", "1h"))
'card_sum_amount_eur_1h'
>>> feature_name(WindowFeature("merchant", "distinct", "card_id", "7d", version=2))
'merchant_distinct_card_id_7d_v2'
>>> feature_name(HistoryFeature("card", "seconds_since_last"))
'card_seconds_since_last'
>>> feature_name(LabelFeature("terminal", "fraud_rate", "7d")), feature_name(CONFIRMED_FRAUD)
('terminal_fraud_rate_7d', 'card_confirmed_fraud')
>>> len(FEATURE_NAMES) == len(set(FEATURE_NAMES)) == len(FEATURES)
True
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

Entity = Literal["txn", "card", "merchant", "terminal", "device"]
Aggregation = Literal["count", "sum", "mean", "max", "distinct"]
HistoryKind = Literal[
    "seconds_since_last", "amount_zscore_30d", "amount_ratio_30d", "new_country_30d",
    "new_device_30d", "cross_border",
]  # fmt: skip
TxnKind = Literal["amount_eur", "hour", "weekend", "night", "online", "has_device"]
LabelKind = Literal["fraud_rate", "confirmed_fraud"]

WINDOWS_MS: dict[str, int] = {
    "10m": 10 * 60_000,
    "1h": 3_600_000,
    "24h": 86_400_000,
    "7d": 7 * 86_400_000,
    "30d": 30 * 86_400_000,
}
"""The horizons a window feature may use."""

MINUTE_MS = 60_000
BUCKET_MS: dict[int, int] = {
    3_600_000: MINUTE_MS,
    86_400_000: 5 * MINUTE_MS,
    7 * 86_400_000: 30 * MINUTE_MS,
}
"""Merchant and terminal windows keep (count, sum, cards last seen) per bucket of this width:
the most a window can leave out at its old edge. Card and device windows keep every event."""

HISTORY_MS = 30 * 86_400_000
"""How far back a card's history features (spread, home country, new device) look."""

LABEL_BUCKET_MS = 3_600_000
"""A label-fed fraud rate divides by the entity's payments in its window, counted per hour: the
most the window can leave out at its old edge."""

NO_PREVIOUS = -1.0
"""``seconds_since_last`` of a card's first transaction in 30 days."""

ENTITY_KEYS: dict[str, str] = {
    "card": "card_id",
    "merchant": "merchant_id",
    "terminal": "terminal_id",
    "device": "device_id",
}
"""The transaction field that identifies each entity."""


@dataclass(frozen=True, slots=True)
class WindowFeature:
    """An aggregate of ``column`` over the entity's last ``window`` of event time.

    ``count`` ignores ``column``; ``distinct`` counts different values of it.
    """

    entity: Entity
    agg: Aggregation
    column: str
    window: str
    version: int = 1

    @property
    def window_ms(self) -> int:
        return WINDOWS_MS[self.window]


@dataclass(frozen=True, slots=True)
class HistoryFeature:
    """A comparison of the transaction with its entity's earlier history."""

    entity: Entity
    kind: HistoryKind
    version: int = 1


@dataclass(frozen=True, slots=True)
class TxnFeature:
    """A property of the transaction alone."""

    kind: TxnKind
    version: int = 1
    entity: Entity = "txn"


@dataclass(frozen=True, slots=True)
class LabelFeature:
    """What the bank has learnt of the entity's earlier payments, from the ``labels`` topic.

    Only fraud labels reported before the payment's event time count, each payment once.
    ``fraud_rate``: the merchant's or terminal's payments labelled fraud with the label reported
    in the last ``window``, per payment of that entity in the same window (this one included).
    ``confirmed_fraud``: how many of the card's payments were labelled fraud, ever.
    """

    entity: Entity
    kind: LabelKind
    window: str | None = None
    version: int = 1

    @property
    def window_ms(self) -> int:
        return WINDOWS_MS[self.window] if self.window else 0


Feature = WindowFeature | HistoryFeature | TxnFeature | LabelFeature


def feature_name(feature: Feature) -> str:
    """The one place a feature's name is made: ``entity_what[_window][_vN]``."""
    if isinstance(feature, WindowFeature):
        what = "count" if feature.agg == "count" else f"{feature.agg}_{feature.column}"
        base = f"{feature.entity}_{what}_{feature.window}"
    elif isinstance(feature, LabelFeature) and feature.window:
        base = f"{feature.entity}_{feature.kind}_{feature.window}"
    else:
        base = f"{feature.entity}_{feature.kind}"
    return base if feature.version == 1 else f"{base}_v{feature.version}"


def _windows(entity: Entity, aggs: dict[str, str], windows: tuple[str, ...]) -> list[Feature]:
    """Declarations for every (aggregation of column) x window; ``aggs`` maps agg to column."""
    return [
        WindowFeature(entity, agg, column, window)  # type: ignore[arg-type]
        for window in windows
        for agg, column in aggs.items()
    ]


CONFIRMED_FRAUD = LabelFeature("card", "confirmed_fraud")

_AMOUNT = {"count": "*", "sum": "amount_eur", "mean": "amount_eur", "max": "amount_eur"}

FEATURES: tuple[Feature, ...] = (
    TxnFeature("amount_eur"),
    TxnFeature("hour"),
    TxnFeature("weekend"),
    TxnFeature("night"),
    TxnFeature("online"),
    TxnFeature("has_device"),
    *_windows("card", _AMOUNT, ("10m", "1h", "24h", "7d", "30d")),
    *[
        WindowFeature("card", "distinct", column, window)
        for window in ("24h", "7d")
        for column in ("merchant_id", "country", "device_id")
    ],
    HistoryFeature("card", "seconds_since_last"),
    HistoryFeature("card", "amount_zscore_30d"),
    HistoryFeature("card", "amount_ratio_30d"),
    HistoryFeature("card", "new_country_30d"),
    HistoryFeature("card", "new_device_30d"),
    # v2: the country is not among the most frequent of the past 30 days. v1 compared with
    # the first of them to reach the top count, which made a tie depend on arrival order.
    HistoryFeature("card", "cross_border", version=2),
    *_windows("merchant", {"count": "*", "sum": "amount_eur"}, ("1h", "24h", "7d")),
    *[WindowFeature("merchant", "distinct", "card_id", w) for w in ("1h", "24h", "7d")],
    *_windows("terminal", {"count": "*", "sum": "amount_eur"}, ("1h", "24h", "7d")),
    *[WindowFeature("terminal", "distinct", "card_id", w) for w in ("1h", "24h", "7d")],
    *[WindowFeature("device", "distinct", "card_id", w) for w in ("24h", "7d")],
    *[
        LabelFeature(entity, "fraud_rate", window)
        for entity in ("merchant", "terminal")
        for window in ("24h", "7d", "30d")
    ],
    CONFIRMED_FRAUD,
)
"""Every feature, in the order models see them."""

FEATURE_NAMES: tuple[str, ...] = tuple(feature_name(f) for f in FEATURES)


def features_of(entity: Entity) -> tuple[Feature, ...]:
    """The declarations evaluated for one entity, in registry order."""
    return tuple(f for f in FEATURES if f.entity == entity)


def feature_set_version(features: tuple[Feature, ...] = FEATURES) -> str:
    """A short digest of the declarations: models record it, the job refuses a mismatch."""
    text = "|".join(repr(f) for f in features)
    return "fs-" + hashlib.sha256(text.encode()).hexdigest()[:12]


FEATURE_SET_VERSION = feature_set_version()
