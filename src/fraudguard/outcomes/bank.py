"""What a bank learns of its own decisions: the labels its decisions let it see, and when.

A bank never learns whether a payment it blocked was fraud. It learns of an approved fraud
when the cardholder disputes it (a **chargeback**, weeks later), and of a payment it sent to
review when an investigator closes the case (an **investigation** verdict, within hours, as
long as the day's review capacity lasts, and now and then wrong). An approved legitimate
payment produces nothing: it counts as legitimate once the label window has passed, which is
training's business (:mod:`fraudguard.training.retrain`), not a label.

Every draw is a keyed hash of the transaction id and the seed (:func:`draw`), so the same
decision always gets the same outcome: a replay, or a service restarted after a crash, writes
the same labels, and an outcome already written is written again identically (exactly once by
construction, with the transaction id as the label's key). The only state is the number of
verdicts given per day (:attr:`BankOutcomes.reviews_per_day`), which a streaming service keeps
in its checkpoint beside its input position; decisions must reach it in event-time order for
the day's capacity to go to the day's first reviews.

>>> from fraudguard.config import OutcomesSettings
>>> bank = BankOutcomes(OutcomesSettings(review_capacity_per_day=1, review_error_rate=0.0))
>>> approve = DecisionFacts("t1", "c1", "approve", False, 1.0, 0, 20.0)
>>> bank.label_for(approve, fraud=False) is None      # approved and legitimate: nothing
True
>>> bank.label_for(approve, fraud=True).source        # approved fraud: a chargeback, later
'chargeback'
>>> bank.label_for(DecisionFacts("t2", "c1", "block", False, 0.99, 0, 20.0), fraud=True) is None
True
>>> bank.label_for(DecisionFacts("t3", "c2", "approve", True, 0.01, 0, 20.0), fraud=True).source
'chargeback'
>>> review = DecisionFacts("t4", "c3", "review", False, 0.99, 5, 20.0)
>>> bank.label_for(review, fraud=True).label, bank.label_for(review._replace(txn_id="t5"), True)
('fraud', None)
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any, NamedTuple

from fraudguard.config import OutcomesSettings
from fraudguard.decision.exploration import draw
from fraudguard.wire.transactions import format_event_time, parse_event_time

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
DECISIONS = ("approve", "review", "block")
CHARGEBACK = "chargeback"
INVESTIGATION = "investigation"
UNKNOWN_SCENARIO = "unknown"
"""A bank label's ``scenario``: the bank learns that a payment was fraud, not how it was done
(the generator's scenario stays in the ground truth, for evaluation)."""
_NORMAL = NormalDist()


class DecisionFacts(NamedTuple):
    """What outcomes read of one decision record."""

    txn_id: str
    card_id: str
    decision: str
    """``approve``, ``review`` or ``block``, as recorded (an explored release is ``approve``)."""
    explored: bool
    propensity: float
    ts_ms: int
    """The payment's event time."""
    amount: float
    merchant_id: str = ""
    terminal_id: str = ""
    """The payment's entities, copied into its label; empty when the record predates them."""

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> DecisionFacts:
        """The facts of a decision record of the ``decisions`` topic (docs/formats.md);
        ``KeyError``, ``TypeError``, ``ValueError`` or ``InvalidTransaction`` (its event
        time) when it is not one.

        >>> DecisionFacts.from_record({"txn_id": "t1", "card_id": "c1", "decision": "review",
        ...     "event_time": "2026-11-23T10:00:00Z", "propensity": 0.99, "amount": 5,
        ...     "merchant_id": "m1"})
        DecisionFacts(txn_id='t1', card_id='c1', decision='review', explored=False, \
propensity=0.99, ts_ms=1795428000000, amount=5.0, merchant_id='m1', terminal_id='')
        """
        decision = record["decision"]
        if decision not in DECISIONS:
            raise ValueError(f"decision must be one of {', '.join(DECISIONS)}, not {decision!r}")
        txn_id, card_id = record["txn_id"], record["card_id"]
        if not (isinstance(txn_id, str) and txn_id and isinstance(card_id, str)):
            raise TypeError("txn_id and card_id must be strings")
        return cls(
            txn_id, card_id, decision, bool(record.get("explored", False)),
            float(record.get("propensity", 1.0)), parse_event_time(record["event_time"]),
            float(record.get("amount", 0.0)), _text(record, "merchant_id"),
            _text(record, "terminal_id"),
        )  # fmt: skip


def _text(record: Mapping[str, Any], name: str) -> str:
    value = record.get(name)
    return value if isinstance(value, str) else ""


@dataclass(frozen=True, slots=True)
class BankLabel:
    """One label as the bank learns it, in our labels format (docs/formats.md#label)."""

    txn_id: str
    card_id: str
    label: str
    """``fraud`` or ``legit``."""
    event_time: str
    reported_ms: int
    source: str
    """``chargeback`` or ``investigation``."""
    merchant_id: str = ""
    terminal_id: str = ""
    """From the decision record; defaults for the labels a changelog kept before they were."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "txn_id": self.txn_id, "card_id": self.card_id, "merchant_id": self.merchant_id,
            "terminal_id": self.terminal_id, "label": self.label, "scenario": UNKNOWN_SCENARIO,
            "event_time": self.event_time, "reported_at": format_event_time(self.reported_ms),
            "source": self.source,
        }  # fmt: skip


def uniform(seed: int, txn_id: str, purpose: str) -> float:
    """The transaction's draw for one ``purpose``, independent of its other draws.

    >>> uniform(1, "t1", "delay") == uniform(1, "t1", "delay") != uniform(1, "t1", "error")
    True
    """
    return draw(seed, f"{txn_id}\x00{purpose}")


def chargeback_delay_ms(settings: OutcomesSettings, txn_id: str) -> int:
    """Log-normal delay of the transaction's chargeback, clipped to the settings' bounds.

    >>> s = OutcomesSettings(chargeback_median_days=20, chargeback_max_days=30)
    >>> days = [chargeback_delay_ms(s, f"t{i}") / DAY_MS for i in range(2000)]
    >>> 17 < sorted(days)[1000] < 23, min(days) >= 2, max(days) <= 30
    (True, True, True)
    """
    u = min(max(uniform(settings.seed, txn_id, "chargeback"), 1e-12), 1 - 1e-12)
    spread = settings.chargeback_sigma * _NORMAL.inv_cdf(u)
    days = settings.chargeback_median_days * math.exp(spread)
    days = min(max(days, settings.chargeback_min_days), settings.chargeback_max_days)
    return round(days * DAY_MS)


class BankOutcomes:
    """The outcome of each decision, one record at a time (what a streaming service calls per
    decision record), with the reviews closed per day as its only state."""

    def __init__(
        self, settings: OutcomesSettings, reviews_per_day: dict[int, int] | None = None
    ) -> None:
        self.settings = settings
        self.reviews_per_day: Counter[int] = Counter(reviews_per_day or {})
        """Verdicts given per UTC day (``ts_ms // DAY_MS``) of the reviewed payment."""

    def label_for(self, facts: DecisionFacts, fraud: bool) -> BankLabel | None:
        """The label the bank will get for this decision, with its report time, or None.

        ``fraud`` is the ground truth; it decides what the label says, never whether there is
        one: that follows from the decision alone."""
        if facts.decision == "approve":  # explored releases are approvals
            if not fraud:
                return None
            at = facts.ts_ms + chargeback_delay_ms(self.settings, facts.txn_id)
            return self._label(facts, "fraud", at, CHARGEBACK)
        if facts.decision != "review":  # blocked: the bank never learns
            return None
        day = facts.ts_ms // DAY_MS
        if self.reviews_per_day[day] >= self.settings.review_capacity_per_day:
            return None
        self.reviews_per_day[day] += 1
        s = self.settings
        wrong = uniform(s.seed, facts.txn_id, "verdict") < s.review_error_rate
        hours = s.review_delay_min_hours + uniform(s.seed, facts.txn_id, "verdict-delay") * (
            s.review_delay_max_hours - s.review_delay_min_hours
        )
        verdict = "fraud" if fraud != wrong else "legit"
        return self._label(facts, verdict, facts.ts_ms + round(hours * HOUR_MS), INVESTIGATION)

    @staticmethod
    def _label(facts: DecisionFacts, label: str, at_ms: int, source: str) -> BankLabel:
        return BankLabel(
            facts.txn_id, facts.card_id, label, format_event_time(facts.ts_ms), at_ms, source,
            facts.merchant_id, facts.terminal_id,
        )  # fmt: skip


def bank_labels(
    decisions: list[DecisionFacts], fraud_ids: set[str], settings: OutcomesSettings
) -> list[BankLabel]:
    """Every label the bank gets for ``decisions``, in report-time order. Decisions are taken
    in event-time order (then by id), so the result does not depend on the input's order."""
    bank = BankOutcomes(settings)
    ordered = sorted(decisions, key=lambda d: (d.ts_ms, d.txn_id))
    labels = [bank.label_for(d, d.txn_id in fraud_ids) for d in ordered]
    return sorted((x for x in labels if x is not None), key=lambda x: (x.reported_ms, x.txn_id))
