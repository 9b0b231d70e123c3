"""What a report adds up over decision records, batch by batch, in memory that does not grow
with the number of decisions: score bins, days, segments, the day's riskiest cards.

Labels are read as a bank knows them at the report's cut-off (:func:`label_codes`): a known
``fraud`` is a positive, a known ``legit`` a negative, a decision **with no label at all** counts
as legitimate (the book's view once the label window has passed), and a decision whose label is
reported **after** the cut-off is immature: left out of every rate and counted.

>>> import pyarrow as pa
>>> label_codes(pa.array(["fraud", None, "legit", None]), pa.array([5, 9, None, None]))
array([ 1, -1,  0,  0], dtype=int8)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fraudguard.decision.whatif import FRAUD, LEGIT, UNKNOWN

BINS = 1_000
"""Score bins per unit: a threshold sweep is exact at every multiple of 1/BINS. Bin k holds
scores in [k/BINS, (k+1)/BINS), and one more bin holds the scores of exactly 1."""
_SLOTS = BINS + 1
DAY_MS = 86_400_000
AMOUNT_BANDS = (0.0, 50.0, 200.0, 1_000.0, 5_000.0)
"""Lower edges of the amount bands a segment table shows, in euro."""


def label_codes(label: pa.Array | None, reported_ms: pa.Array | None) -> np.ndarray | None:
    """Per decision: 1 fraud, 0 legitimate (known, or never labelled), -1 immature; None when
    the decisions carry no labels at all."""
    if label is None:
        return None
    text = label.to_numpy(zero_copy_only=False)
    codes = np.full(len(text), LEGIT, dtype=np.int8)
    codes[text == "fraud"] = FRAUD
    if reported_ms is not None:
        immature = label.is_null().to_numpy(zero_copy_only=False) & reported_ms.is_valid().to_numpy(
            zero_copy_only=False
        )
        codes[immature] = UNKNOWN
    return codes


@dataclass
class ScoreBins:
    """Decisions per score bin, split by label, with the euro of fraud: every threshold's
    precision, recall and cost follow from cumulative sums.

    >>> bins = ScoreBins()
    >>> bins.add(np.array([0.95, 0.6, 0.2]), np.array([1, 0, 1], np.int8), np.array([80., 5, 20]))
    >>> row = bins.at(0.5)
    >>> row["flagged"], row["precision"], row["recall"], row["euro_caught"]
    (2, 0.5, 0.5, 80.0)
    """

    rows: np.ndarray = field(default_factory=lambda: np.zeros(_SLOTS, np.int64))
    fraud: np.ndarray = field(default_factory=lambda: np.zeros(_SLOTS, np.int64))
    legit: np.ndarray = field(default_factory=lambda: np.zeros(_SLOTS, np.int64))
    fraud_eur: np.ndarray = field(default_factory=lambda: np.zeros(_SLOTS))

    def add(self, score: np.ndarray, label: np.ndarray | None, amount_eur: np.ndarray) -> None:
        at = np.clip(np.floor(np.nan_to_num(score, nan=1.0) * BINS), 0, BINS).astype(np.int64)
        self.rows += np.bincount(at, minlength=_SLOTS)
        if label is not None:
            fraud = label == FRAUD
            self.fraud += np.bincount(at[fraud], minlength=_SLOTS)
            self.legit += np.bincount(at[label == LEGIT], minlength=_SLOTS)
            self.fraud_eur += np.bincount(at[fraud], weights=amount_eur[fraud], minlength=_SLOTS)

    def _above(self, values: np.ndarray) -> np.ndarray:
        """Per bin edge k: the total of bins k and up (index _SLOTS: nothing)."""
        return np.concatenate([np.cumsum(values[::-1])[::-1], [0]])

    def at(self, threshold: float) -> dict[str, Any]:
        """Precision, recall and false-positive rate of stopping every score >= ``threshold``."""
        k = min(BINS, max(0, int(np.ceil(round(threshold * BINS, 9)))))
        tp, fp = int(self.fraud[k:].sum()), int(self.legit[k:].sum())
        positives, negatives = int(self.fraud.sum()), int(self.legit.sum())
        return {
            "threshold": round(threshold, 4),
            "flagged": int(self.rows[k:].sum()),
            "fraud_caught": tp,
            "false_positives": fp,
            "precision": _ratio(tp, tp + fp),
            "recall": _ratio(tp, positives),
            "false_positive_rate": _ratio(fp, negatives),
            "euro_caught": round(float(self.fraud_eur[k:].sum()), 2),
        }

    def sweep(self, thresholds: list[float]) -> list[dict[str, Any]]:
        return [self.at(t) for t in sorted(set(thresholds))]

    def pr_curve(self) -> dict[str, Any]:
        """Precision and recall at every bin edge from the top, and the average precision
        (the step-wise area: recall gained at each edge times the precision there)."""
        tp, fp = self._above(self.fraud)[:-1], self._above(self.legit)[:-1]  # per edge 0..BINS
        positives = int(self.fraud.sum())
        if positives == 0:
            return {"recall": [], "precision": [], "average_precision": None}
        flagged = tp + fp
        keep = flagged > 0
        precision = np.divide(tp, flagged, out=np.zeros(_SLOTS), where=keep)
        recall = tp / positives
        gained = -np.diff(np.concatenate([recall, [0.0]]))
        ap = float((gained * precision).sum())
        top_down = np.flatnonzero(keep)[::-1]
        return {
            "recall": np.round(recall[top_down], 5).tolist(),
            "precision": np.round(precision[top_down], 5).tolist(),
            "average_precision": round(ap, 5),
        }

    def cost_curve(
        self, review: float, block: float, cost_fp: float, cost_review: float
    ) -> dict[str, Any]:
        """Net euro per block threshold, the review threshold held at ``review``: fraud euro
        stopped (blocked, or reviewed and found), minus ``cost_fp`` per legitimate payment
        blocked, minus ``cost_review`` per review. A block threshold at or under ``review``
        leaves no review band; ``block`` is the threshold in force, whose net is given too."""
        edges = np.arange(BINS + 1)
        r = min(BINS, int(np.ceil(round(review * BINS, 9))))
        eur, legit, rows = (
            self._above(self.fraud_eur),
            self._above(self.legit),
            self._above(self.rows),
        )
        start = np.minimum(edges, r)
        caught = eur[start]
        reviews = rows[start] - rows[edges]
        net = caught - cost_fp * legit[edges] - cost_review * reviews
        step = BINS // 100  # a point per 0.01: enough for a plot and a table
        pick = edges[::step]
        best = int(np.argmax(net))
        in_force = min(BINS, int(np.ceil(round(block * BINS, 9))))
        return {
            "block_threshold": (pick / BINS).round(4).tolist(),
            "net_eur": net[pick].round(2).tolist(),
            "review_threshold": review,
            "best_block_threshold": round(best / BINS, 4),
            "best_net_eur": round(float(net[best]), 2),
            "net_eur_in_force": round(float(net[in_force]), 2),
        }


@dataclass
class CardsAtK:
    """Card precision@k per UTC day: of the ``k`` cards with the highest score that day, the
    share with a fraud known at the cut-off that day. Days are closed once the stream is
    two days past them, so memory holds two days of cards; a decision for a closed day is
    counted in ``late_rows`` and left out.

    >>> at_k = CardsAtK(k=2)
    >>> at_k.add(np.array([0, 0, 0]), np.array(["a", "b", "c"], object),
    ...          np.array([0.9, 0.8, 0.1]), np.array([1, 0, 1], np.int8))
    >>> at_k.finish()
    {0: 0.5}
    """

    k: int
    open_days: dict[int, list[pa.Table]] = field(default_factory=dict)
    precision: dict[int, float | None] = field(default_factory=dict)
    late_rows: int = 0

    def add(
        self, day: np.ndarray, card: np.ndarray | pa.Array, score: np.ndarray, label: np.ndarray
    ) -> None:
        rows = pa.table({"card": card, "score": score, "fraud": label == FRAUD})
        for d in np.unique(day).tolist():
            if d in self.precision:
                self.late_rows += int((day == d).sum())
                continue
            self.open_days.setdefault(d, []).append(rows.filter(pa.array(day == d)))
        newest = max(self.open_days, default=None)
        if newest is not None:
            for d in [d for d in self.open_days if d < newest - 1]:
                self._close(d)

    def _close(self, day: int) -> None:
        rows = pa.concat_tables(self.open_days.pop(day))
        # Per card its riskiest score and whether any of its payments was a fraud, in order of
        # first appearance (one thread keeps it), then the k riskiest: a stable sort, so equal
        # scores rank in that order.
        cards = rows.group_by("card", use_threads=False).aggregate(
            [("score", "max"), ("fraud", "any")]
        )
        top = cards.take(pc.array_sort_indices(cards["score_max"], order="descending")[: self.k])
        n = top.num_rows
        self.precision[day] = round(pc.sum(top["fraud_any"]).as_py() / n, 4) if n else None

    def finish(self) -> dict[int, float | None]:
        for d in sorted(self.open_days):
            self._close(d)
        return dict(sorted(self.precision.items()))


def _ratio(part: float, whole: float) -> float | None:
    return round(part / whole, 5) if whole else None


COUNTS = (
    "transactions", "approve", "review", "block", "explored", "fraud", "fraud_caught",
    "legit", "false_positives", "immature", "euro_caught", "euro_missed",
)  # fmt: skip
"""What a group of decisions adds up to; ``fraud_caught`` and ``false_positives`` mean what
they mean in the panel's what-if (:class:`~fraudguard.decision.whatif.Outcome`): a fraud, or a
legitimate payment, sent to review or block."""


@dataclass
class GroupTally:
    """:data:`COUNTS` per group key (a day, a merchant category...), over batches.

    >>> tally = GroupTally()
    >>> tally.add(np.array(["FR", "FR", "DE"], object), np.array([2, 0, 1]),
    ...           np.array([False, True, False]), np.array([1, 1, 0], np.int8),
    ...           np.array([10.0, 20.0, 5.0]))
    >>> row = tally.rows()["FR"]
    >>> row["fraud"], row["fraud_caught"], row["euro_missed"], row["recall"]
    (2, 1, 20.0, 0.5)
    """

    totals: dict[Any, np.ndarray] = field(default_factory=dict)

    def add(
        self,
        key: np.ndarray | pa.Array,
        decision: np.ndarray,
        explored: np.ndarray,
        label: np.ndarray | None,
        amount_eur: np.ndarray,
    ) -> None:
        """One batch: each decision's group key, decision code (0 approve, 1 review, 2 block),
        exploration flag, label code (or None: no labels) and euro amount."""
        keys, group = _factorize(key)
        n = len(keys)
        label = label if label is not None else np.full(len(key), UNKNOWN - 1, np.int8)
        fraud, legit, stopped = label == FRAUD, label == LEGIT, decision > 0

        def count(mask: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
            w = None if weights is None else weights[mask]
            return np.bincount(group[mask], weights=w, minlength=n)

        columns = np.stack([
            np.bincount(group, minlength=n), count(decision == 0), count(decision == 1),
            count(decision == 2), count(explored), count(fraud), count(fraud & stopped),
            count(legit), count(legit & stopped), count(label == UNKNOWN),
            count(fraud & stopped, amount_eur), count(fraud & ~stopped, amount_eur),
        ], axis=1)  # fmt: skip
        for k, values in zip(keys, columns, strict=True):
            seen = self.totals.get(k)
            self.totals[k] = values if seen is None else seen + values

    def rows(self) -> dict[Any, dict[str, Any]]:
        """Per key: the counts, with alerts, recall, precision and the alert rate."""
        return {k: describe(v) for k, v in sorted(self.totals.items())}

    def top(self, limit: int) -> list[dict[str, Any]]:
        """The ``limit`` keys with the most decisions, then the rest as ``other``."""
        ranked = sorted(self.totals.items(), key=lambda kv: (-kv[1][0], str(kv[0])))
        out = [{"segment": str(k), **describe(v)} for k, v in ranked[:limit]]
        if len(ranked) > limit:
            rest = np.sum([v for _, v in ranked[limit:]], axis=0)
            out.append({"segment": f"other ({len(ranked) - limit})", **describe(rest)})
        return out


def _factorize(key: np.ndarray | pa.Array) -> tuple[list[Any], np.ndarray]:
    """The distinct values of ``key`` and each row's position among them. Text goes through
    Arrow's hash table: sorting Python strings, as ``np.unique`` does, took seconds a million.

    >>> _factorize(np.array(["b", "a", "b"], object))
    (['b', 'a'], array([0, 1, 0], dtype=int32))
    >>> _factorize(np.array([3, 1, 3]))
    ([1, 3], array([1, 0, 1]))
    """
    if isinstance(key, np.ndarray) and key.dtype != object:
        keys, group = np.unique(key, return_inverse=True)
        return keys.tolist(), group
    array = key if isinstance(key, pa.Array) else pa.array(key)
    encoded = array.dictionary_encode(null_encoding="encode")
    return encoded.dictionary.to_pylist(), encoded.indices.to_numpy()


def describe(values: np.ndarray) -> dict[str, Any]:
    """Counts as a record, with the rates derived from them."""
    row: dict[str, Any] = {
        name: (round(float(v), 2) if name.startswith("euro") else int(v))
        for name, v in zip(COUNTS, values, strict=True)
    }
    alerts = row["review"] + row["block"]
    row["alerts"] = alerts
    row["alert_rate"] = _ratio(alerts, row["transactions"])
    row["recall"] = _ratio(row["fraud_caught"], row["fraud"])
    row["precision"] = _ratio(row["fraud_caught"], row["fraud_caught"] + row["false_positives"])
    return row


def amount_band(amount_eur: np.ndarray) -> np.ndarray:
    """The band name of each amount.

    >>> amount_band(np.array([10.0, 50.0, 7_000.0])).tolist()
    ['0-50', '50-200', '5000+']
    """
    edges = np.array(AMOUNT_BANDS[1:])
    names = [f"{int(lo)}-{int(hi)}" for lo, hi in zip(AMOUNT_BANDS, AMOUNT_BANDS[1:], strict=False)]
    names.append(f"{int(AMOUNT_BANDS[-1])}+")
    return np.array(names, dtype=object)[np.searchsorted(edges, amount_eur, side="right")]
