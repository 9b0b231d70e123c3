"""A report's numbers from decision files: one pass over each, in batches, so a report of a
hundred million decisions needs no more memory than one of a thousand.

A decision file is what ``fraudguard backtest`` writes (``decisions.parquet``: the decision
records, ``ts_ms``, and ``label`` / ``label_reported_ms`` when labels were given) or what a
replay's decisions topic is saved as. When two files are compared, they hold the same
transactions in the same order (both are decided from one stream).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from fraudguard.decision.tiers import AMOUNT_FEATURE, DECISION_CODES, ThresholdTiers
from fraudguard.decision.whatif import FRAUD, LEGIT, UNKNOWN
from fraudguard.errors import ConfigError
from fraudguard.reports.tally import (
    COUNTS,
    DAY_MS,
    CardsAtK,
    GroupTally,
    ScoreBins,
    amount_band,
    describe,
    label_codes,
)

COLUMNS = (
    "txn_id", "card_id", "ts_ms", "decision", "score", "explored", "degraded", "mcc",
    "country", "channel", f"features.{AMOUNT_FEATURE}",
)  # fmt: skip
LABEL_COLUMNS = ("label", "label_reported_ms")
SEGMENTS = ("mcc", "country", "channel", "amount_band")
SEGMENT_ROWS = 12
"""Segments listed per table; the rest are summed as one ``other`` row."""
SAMPLE = 10
"""Transactions shown of each kind of change between two configurations."""
_DECISION_NAMES = pa.array(DECISION_CODES)


@dataclass(frozen=True)
class ReportSettings:
    """The working assumptions a report prices decisions with."""

    cost_fp: float = 2.0
    """Euro of friction per legitimate payment blocked."""
    cost_review: float = 4.0
    """Euro an analyst's review costs."""
    review_minutes: float = 5.0
    top_k: int = 100
    """Cards an analyst team checks per day: the k of card precision@k."""
    labels_known_at_ms: int | None = None
    """The cut-off labels were read at (None: no cut-off, every label)."""


@dataclass
class Batch:
    """A batch of decisions as the tallies need them."""

    txn_id: np.ndarray
    card_id: np.ndarray
    ts_ms: np.ndarray
    decision: np.ndarray
    score: np.ndarray
    explored: np.ndarray
    amount_eur: np.ndarray
    label: np.ndarray | None
    segments: dict[str, np.ndarray | pa.Array]

    def __len__(self) -> int:
        return len(self.ts_ms)


def _decision_codes(decision: pa.Array, path: Path) -> np.ndarray:
    """Each decision's code (0 approve, 1 review, 2 block)."""
    codes = pc.index_in(decision, value_set=_DECISION_NAMES)
    if codes.null_count:
        unknown = sorted(set(pc.filter(decision, pc.is_null(codes)).to_pylist()), key=str)
        raise ConfigError(f"{path}: unknown decisions {unknown}")
    return codes.to_numpy().astype(np.int8)


def read_decisions(path: Path, batch_rows: int = 65_536) -> Iterator[Batch]:
    """The batches of a decision file, with the label codes of :func:`label_codes`."""
    if not path.exists():
        raise ConfigError(f"{path}: no decision file there (run `fraudguard backtest` first)")
    file = pq.ParquetFile(path)
    names = set(file.schema_arrow.names)
    wanted = [c for c in COLUMNS if c.split(".")[0] in names]
    missing = sorted({c.split(".")[0] for c in COLUMNS} - names)
    if missing:
        raise ConfigError(f"{path}: not a decision file, it lacks {', '.join(missing)}")
    labelled = all(c in names for c in LABEL_COLUMNS)
    wanted += list(LABEL_COLUMNS) if labelled else []
    for record in file.iter_batches(batch_size=batch_rows, columns=wanted):
        col = dict(zip(record.schema.names, record.columns, strict=True))
        amount = col["features"].field(AMOUNT_FEATURE).to_numpy(zero_copy_only=False)
        codes = label_codes(col["label"], col["label_reported_ms"]) if labelled else None
        decision = _decision_codes(col["decision"], path)
        text = {k: col[k] for k in ("mcc", "country", "channel")}
        yield Batch(
            txn_id=col["txn_id"].to_numpy(zero_copy_only=False),
            card_id=col["card_id"].to_numpy(zero_copy_only=False),
            ts_ms=col["ts_ms"].to_numpy(), decision=decision,
            score=col["score"].to_numpy(zero_copy_only=False).astype(np.float64),
            explored=col["explored"].to_numpy(zero_copy_only=False).astype(bool),
            amount_eur=amount, label=codes,
            segments={**text, "amount_band": amount_band(amount)},
        )  # fmt: skip


@dataclass
class ConfigTally:
    """Everything one configuration's report adds up."""

    settings: ReportSettings
    bins: ScoreBins = field(default_factory=ScoreBins)
    total: GroupTally = field(default_factory=GroupTally)
    days: GroupTally = field(default_factory=GroupTally)
    segments: dict[str, GroupTally] = field(
        default_factory=lambda: {name: GroupTally() for name in SEGMENTS}
    )
    cards: CardsAtK | None = None
    labelled: bool = False
    first_ms: int | None = None
    last_ms: int | None = None

    def __post_init__(self) -> None:
        self.cards = CardsAtK(self.settings.top_k)

    def add(self, b: Batch) -> None:
        if not len(b):
            return
        self.labelled = b.label is not None
        self.bins.add(b.score, b.label, b.amount_eur)
        everything = np.zeros(len(b), dtype=np.int8)
        self.total.add(everything, b.decision, b.explored, b.label, b.amount_eur)
        day = b.ts_ms // DAY_MS
        self.days.add(day, b.decision, b.explored, b.label, b.amount_eur)
        for name, values in b.segments.items():
            self.segments[name].add(values, b.decision, b.explored, b.label, b.amount_eur)
        labels = b.label if b.label is not None else np.full(len(b), UNKNOWN, np.int8)
        assert self.cards is not None
        self.cards.add(day, b.card_id, b.score, labels)
        lo, hi = int(b.ts_ms.min()), int(b.ts_ms.max())
        self.first_ms = lo if self.first_ms is None else min(self.first_ms, lo)
        self.last_ms = hi if self.last_ms is None else max(self.last_ms, hi)

    def report(
        self, name: str, tiers: ThresholdTiers | None, meta: dict[str, Any]
    ) -> dict[str, Any]:
        s = self.settings
        total = describe(self.total.totals.get(0, np.zeros(len(COUNTS))))
        assert self.cards is not None
        at_k = self.cards.finish()
        days = []
        for day, row in self.days.rows().items():
            row["day"] = datetime.fromtimestamp(day * DAY_MS / 1000, UTC).strftime("%Y-%m-%d")
            row["review_hours"] = round(row["review"] * s.review_minutes / 60, 2)
            row["card_precision_at_k"] = at_k.get(day)
            days.append(row)
        review = tiers.review if tiers is not None else 0.5
        block = tiers.block if tiers is not None else 0.8
        grid = [round(float(x), 2) for x in np.arange(0.05, 1.0, 0.05)] + [review, block]
        return {
            "name": name,
            **meta,
            "review_threshold": review,
            "block_threshold": block,
            "labelled": self.labelled,
            "outcome": total,
            "thresholds": self.bins.sweep(grid) if self.labelled else [],
            "pr_curve": self.bins.pr_curve() if self.labelled else None,
            "cost_curve": (
                self.bins.cost_curve(review, block, s.cost_fp, s.cost_review)
                if self.labelled
                else None
            ),
            "daily": days,
            "cards_late_rows": self.cards.late_rows,
            "segments": {k: v.top(SEGMENT_ROWS) for k, v in self.segments.items()},
        }


@dataclass
class ChangeTally:
    """How a compared configuration's stops differ from the baseline's, decision by decision:
    new positives (it stops, the baseline approved) and lost ones (the reverse), each by
    label, with the euro and a fixed-seed sample of each kind."""

    counts: dict[str, dict[str, Any]] = field(default_factory=dict)
    samples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    seen: dict[str, int] = field(default_factory=dict)
    rng: random.Random = field(default_factory=lambda: random.Random(0))

    def add(self, base: Batch, other: Batch) -> None:
        if len(base) != len(other) or not np.array_equal(base.txn_id, other.txn_id):
            raise ConfigError("the compared decision files do not hold the same transactions in "
                              "the same order")  # fmt: skip
        label = base.label if base.label is not None else np.full(len(base), UNKNOWN, np.int8)
        for kind, mask in (("new", (base.decision == 0) & (other.decision > 0)),
                           ("lost", (base.decision > 0) & (other.decision == 0))):  # fmt: skip
            c = self.counts.setdefault(kind, {"decisions": 0, "fraud": 0, "legit": 0,
                                              "immature": 0, "fraud_eur": 0.0})  # fmt: skip
            c["decisions"] += int(mask.sum())
            c["fraud"] += int((mask & (label == FRAUD)).sum())
            c["legit"] += int((mask & (label == LEGIT)).sum())
            c["immature"] += int((mask & (label == UNKNOWN)).sum())
            c["fraud_eur"] = round(c["fraud_eur"] + float(base.amount_eur[mask & (label == FRAUD)]
                                                          .sum()), 2)  # fmt: skip
            for row in np.flatnonzero(mask).tolist():
                self._sample(kind, base, other, row, int(label[row]))

    def _sample(self, kind: str, base: Batch, other: Batch, row: int, label: int) -> None:
        """Reservoir sampling: every changed decision is equally likely to be shown."""
        n = self.seen[kind] = self.seen.get(kind, 0) + 1
        chosen = self.samples.setdefault(kind, [])
        entry = {
            "txn_id": str(base.txn_id[row]), "card_id": str(base.card_id[row]),
            "event_time": datetime.fromtimestamp(int(base.ts_ms[row]) / 1000, UTC)
            .strftime("%Y-%m-%d %H:%M:%S"),
            "amount_eur": round(float(base.amount_eur[row]), 2),
            "baseline": f"{DECISION_CODES[base.decision[row]]} {base.score[row]:.3f}",
            "compared": f"{DECISION_CODES[other.decision[row]]} {other.score[row]:.3f}",
            "label": {FRAUD: "fraud", LEGIT: "legit", UNKNOWN: "immature"}.get(label, "none"),
        }  # fmt: skip
        if len(chosen) < SAMPLE:
            chosen.append(entry)
        elif (j := self.rng.randrange(n)) < SAMPLE:
            chosen[j] = entry

    def report(self) -> dict[str, Any]:
        empty = {"decisions": 0, "fraud": 0, "legit": 0, "immature": 0, "fraud_eur": 0.0}
        return {
            kind: {**self.counts.get(kind, empty), "sample": self.samples.get(kind, [])}
            for kind in ("new", "lost")
        }


def build_report(
    decisions: Path,
    settings: ReportSettings,
    tiers: ThresholdTiers | None = None,
    meta: dict[str, Any] | None = None,
    compare: Path | None = None,
    compare_tiers: ThresholdTiers | None = None,
    compare_meta: dict[str, Any] | None = None,
    batch_rows: int = 65_536,
) -> dict[str, Any]:
    """The numbers of a report on ``decisions`` (and ``compare``, decided from the same
    stream, beside it), as one JSON-ready dict."""
    base = ConfigTally(settings)
    other = ConfigTally(settings) if compare is not None else None
    changes = ChangeTally() if compare is not None else None
    batches = read_decisions(decisions, batch_rows)
    others = read_decisions(compare, batch_rows) if compare is not None else None
    for batch in batches:
        base.add(batch)
        if others is not None:
            paired = next(others, None)
            if paired is None:
                raise ConfigError(f"{compare} holds fewer decisions than {decisions}")
            assert other is not None and changes is not None
            other.add(paired)
            changes.add(batch, paired)
    if others is not None and next(others, None) is not None:
        raise ConfigError(f"{compare} holds more decisions than {decisions}")
    totals = base.total.totals.get(0, np.zeros(len(COUNTS)))
    cutoff = settings.labels_known_at_ms
    report: dict[str, Any] = {
        "period": {
            "first_event": _iso(base.first_ms), "last_event": _iso(base.last_ms),
            "days": len(base.days.totals),
        },
        "labels": {
            "known_at": _iso(cutoff), "known_at_ms": cutoff, "available": base.labelled,
            "fraud": int(totals[5]), "legit_or_unlabelled": int(totals[7]),
            "immature": int(totals[9]),
            "rule": "a label counts only if reported by the cut-off; a decision with no label "
                    "counts as legitimate; one whose label comes after the cut-off is immature "
                    "and left out of every rate",
        },
        "settings": {
            "cost_fp_eur": settings.cost_fp, "cost_review_eur": settings.cost_review,
            "review_minutes": settings.review_minutes, "top_k": settings.top_k,
        },
        "configs": [base.report("baseline", tiers, meta or {})],
    }  # fmt: skip
    if other is not None and changes is not None:
        report["configs"].append(other.report("compared", compare_tiers or tiers,
                                              compare_meta or {}))  # fmt: skip
        report["changes"] = changes.report()
    return report


def _iso(ms: int | None) -> str | None:
    if ms is None or not -(2**62) < ms < 2**62:
        return None
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
