"""Ground truth: which transactions were fraud, and when the bank found out.

Fraud is learnt late. A cardholder disputes a payment days after seeing a statement
(``chargeback``), or the bank's own investigators confirm it sooner (``investigation``); all
fraudulent payments of one incident are reported together. Delays are log-normal with a median
of about five days and are clipped at the chargeback deadline. A small sample of legitimate
payments is labelled too: investigations that cleared the payment.

>>> rng = np.random.default_rng(0)
>>> source, delay = report_delays(rng, 10_000)
>>> days = delay / 86_400_000
>>> bool(3.5 < np.median(days) < 6.5 and days.max() <= 60 and days.min() > 0)
True
>>> q = LabelQueue()
>>> q.push([GroundTruthLabel("t2", "c1", "m1", "m1-t1", "fraud", "card_testing", "...", "...",
...                          "chargeback", 20),
...         GroundTruthLabel("t1", "c1", "m2", "m2-t1", "legit", "none", "...", "...",
...                          "investigation", 10)])
>>> [lab.txn_id for lab in q.pop_due(15)], len(q)
(['t1'], 1)
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from fraudguard.generator.events import SOURCES

if TYPE_CHECKING:
    from fraudguard.generator.batch import TransactionBatch

DAY_MS = 86_400_000
CHARGEBACK_SHARE = 0.7
# (median days, log-scale spread) per source, for a configured overall median of 5 days.
_DELAY = {"chargeback": (6.5, 0.75), "investigation": (2.5, 0.8)}
MIN_DELAY_MS = 3_600_000
LABEL_FIELDS: tuple[str, ...] = (
    "txn_id",
    "card_id",
    "merchant_id",
    "terminal_id",
    "label",
    "scenario",
    "event_time",
    "reported_at",
    "source",
)


def report_delays(
    rng: np.random.Generator, n: int, median_days: float = 5.0, max_days: float = 60.0
) -> tuple[np.ndarray, np.ndarray]:
    """Source index (into ``SOURCES``) and delay in milliseconds for ``n`` fraud reports."""
    chargeback = rng.random(n) < CHARGEBACK_SHARE
    scale = median_days / 5.0
    (m_cb, s_cb), (m_inv, s_inv) = _DELAY["chargeback"], _DELAY["investigation"]
    days = np.where(
        chargeback,
        rng.lognormal(np.log(m_cb * scale), s_cb, n),
        rng.lognormal(np.log(m_inv * scale), s_inv, n),
    )
    delay = np.clip(days * DAY_MS, MIN_DELAY_MS, max_days * DAY_MS).astype(np.int64)
    source = np.where(chargeback, SOURCES.index("chargeback"), SOURCES.index("investigation"))
    return source.astype(np.int8), delay


@dataclass(frozen=True, slots=True)
class GroundTruthLabel:
    """One record of the ``labels`` topic and labels file."""

    txn_id: str
    card_id: str
    merchant_id: str
    terminal_id: str
    """The payment's entities, for the label-fed risk features."""
    label: str
    """``fraud`` or ``legit``."""
    scenario: str
    """The fraud scenario, ``none`` for a legitimate transaction."""
    event_time: str
    """Event time of the labelled transaction, as on the wire."""
    reported_at: str
    """When the label became known (ISO-8601 UTC)."""
    source: str
    """``chargeback`` or ``investigation``."""
    reported_ms: int
    """``reported_at`` in epoch milliseconds (not written; used to order and release labels)."""

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in LABEL_FIELDS}


def _iso(ms: np.ndarray) -> list[str]:
    text = np.datetime_as_string(ms.astype("datetime64[ms]"), unit="ms")
    return [t + "Z" for t in text.tolist()]


def labels_for(
    batch: TransactionBatch,
    rng: np.random.Generator,
    legit_rate: float,
    median_days: float = 5.0,
    max_days: float = 60.0,
) -> list[GroundTruthLabel]:
    """Labels for the fraud in ``batch`` and a ``legit_rate`` sample of its legitimate rows."""
    fraud = batch.scenario != 0
    cleared = ~fraud & (rng.random(len(batch)) < legit_rate)
    _, delay = report_delays(rng, int(cleared.sum()), median_days * 0.6, max_days)
    reported = batch.reported_ms.copy()
    reported[cleared] = batch.ts_ms[cleared] + delay
    rows = np.flatnonzero(fraud | cleared)
    names = batch.scenario_names()
    iso = _iso(reported[rows])
    return [
        GroundTruthLabel(
            txn_id=batch.txn_ids[i],
            card_id=batch.card_id[i],
            merchant_id=batch.merchant_id[i],
            terminal_id=batch.terminal_id[i],
            label="fraud" if fraud[i] else "legit",
            scenario=names[i],
            event_time=batch.event_time[i],
            reported_at=iso[k],
            source=SOURCES[batch.source[i]] if fraud[i] else "investigation",
            reported_ms=int(reported[i]),
        )
        for k, i in enumerate(rows.tolist())
    ]


class LabelQueue:
    """Labels waiting for the simulated clock to reach their ``reported_ms``."""

    def __init__(self) -> None:
        self._heap: list[tuple[int, str, GroundTruthLabel]] = []

    def __len__(self) -> int:
        return len(self._heap)

    def push(self, labels: list[GroundTruthLabel]) -> None:
        for label in labels:
            heapq.heappush(self._heap, (label.reported_ms, label.txn_id, label))

    def pop_due(self, clock_ms: int) -> list[GroundTruthLabel]:
        """Labels reported at or before ``clock_ms``, oldest report first."""
        due = []
        while self._heap and self._heap[0][0] <= clock_ms:
            due.append(heapq.heappop(self._heap)[2])
        return due
