"""The outcomes service's state, without Kafka: decisions and ground truth in, the bank's labels
out when the stream's clock reaches them, and every change as a changelog entry.

What a decision needs before it can be taken in: whether its payment was fraud. The truth of a
fraud arrives on its own topic, usually before the decision; a legitimate payment usually has
none, so a decision waits until a mark of the ground truth has passed its event time
(:mod:`fraudguard.wire.ground_truth`) and then takes "no fraud truth" as legitimate. (A block
gives nothing either way; it waits too, so that the truth of a blocked fraud is matched, not
counted as never decided.) A decision still waiting after
``truth_wait_s`` of wall time is counted ``no_truth`` and gets no label. Decisions of one
partition are taken in order: one that waits holds back those behind it, so the position to
commit on each partition is always "everything before this offset is in the state".

Then the policy, :class:`~fraudguard.outcomes.bank.BankOutcomes`, the same object the file path
(``fraudguard outcomes DIR``) calls:

- an approval's label (a chargeback of a fraud) is known at once and waits for its report time;
- a review waits until the stream's clock is ``review_order_window_s`` past it, then takes the
  day's capacity in event-time order (then by id), as the file path gives it; its verdict then
  waits for its report time;
- a block gives nothing.

Everything that must survive a restart is an entry of the changelog (:meth:`changes`): labels
not yet due (``p/<txn>``), reviews not yet in order (``r/<txn>``), fraud truth not yet matched
(``t/<txn>``), verdicts given per day (``d/<day>``) and the clock, the truth's mark and the
counters (``meta``). A key whose entry is gone gets a tombstone, so the compacted topic keeps
only what is live. The decisions waiting for truth are not entries: their offsets are not
committed, so a restart reads them again.

>>> from fraudguard.config import OutcomesSettings
>>> from fraudguard.wire.ground_truth import Truth, TruthMark
>>> state = OutcomesState(OutcomesSettings(), partitions=[0])
>>> state.take_truth(Truth("t1", True, 1_000))
>>> state.take_decision(0, 0, DecisionFacts("t1", "c1", "approve", False, 1.0, 1_000, 9.0), 0.0)
>>> state.step(now_s=0.0)                # no mark has passed t1 yet: it waits
>>> state.decision_offsets, state.waiting
({}, 1)
>>> state.take_truth(TruthMark(5_000))
>>> state.step(now_s=0.0)
>>> state.decision_offsets, [key for key, _ in state.changes()]
({0: 1}, ['p/t1', 'meta'])
>>> state.release()                      # the chargeback is weeks away in event time
[]
>>> state.counts["pending"]
1
"""

from __future__ import annotations

import heapq
import logging
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import asdict
from typing import Any, NamedTuple

import orjson

from fraudguard.config import OutcomesSettings
from fraudguard.outcomes.bank import DAY_MS, HOUR_MS, BankLabel, BankOutcomes, DecisionFacts
from fraudguard.outcomes.clock import StreamClock
from fraudguard.wire.ground_truth import Truth, TruthMark

log = logging.getLogger(__name__)

META = "meta"
PENDING, REVIEW, TRUTH, DAY = "p/", "r/", "t/", "d/"


class _Waiting(NamedTuple):
    offset: int
    facts: DecisionFacts | None
    """None: a record that could not be read (counted ``bad_decisions`` when its turn comes)."""
    seen_s: float


class OutcomesState:
    """Pending labels, reviews waiting for their order, unmatched fraud truth and the clock."""

    def __init__(self, settings: OutcomesSettings, partitions: Iterable[int]) -> None:
        self.settings = settings
        self.bank = BankOutcomes(settings)
        self.clock = StreamClock(partitions)
        self.truth_through = -1
        """The newest mark of the ground truth: every payment at or before it has its truth."""
        self.counts: Counter[str] = Counter()
        """Everything the service took in, gave and refused, over its whole life."""
        self._frauds: dict[str, int] = {}
        self._fraud_order: list[tuple[int, str]] = []
        self._reviews: dict[str, tuple[DecisionFacts, bool]] = {}
        self._review_order: list[tuple[int, str]] = []
        self._pending: dict[str, BankLabel] = {}
        self._due_order: list[tuple[int, str]] = []
        self._queues: dict[int, deque[_Waiting]] = {p: deque() for p in self.clock.partitions}
        self._at_end: set[int] = set()
        self._offsets: dict[int, int] = {}
        self._dirty: set[str] = set()
        self._persisted: set[str] = set()
        service = settings.service
        self._order_window_ms = round(service.review_order_window_s * 1000)
        self._truth_ttl_ms = round(service.truth_ttl_hours * HOUR_MS)

    # Input

    def take_truth(self, record: Truth | TruthMark | None) -> None:
        """One ``ground_truth`` record (None: one that could not be read)."""
        if record is None:
            self.counts["bad_truth"] += 1
        elif isinstance(record, TruthMark):
            self.counts["truth_marks"] += 1
            if record.through_ms < self.truth_through:
                # A new generator run, starting before where the last one got to (the demo
                # generates the days before now at each start): a new stream, whose clock
                # starts again, or its fraud truth would be forgotten as too old and its
                # reviews counted late. Labels not yet due stay held until it reaches them.
                self.counts["truth_runs"] += 1
                self.clock = StreamClock(self.clock.partitions)
            # The newest mark wins, even a lower one: a new run starts with a mark before its
            # first payment, so none of its payments is taken for legitimate before its truth
            # is in (an older run's truth came before that mark).
            self.truth_through = record.through_ms
        elif not record.fraud:  # a payment without fraud truth is legitimate anyway
            self.counts["truth_legit"] += 1
        elif record.txn_id not in self._frauds:
            self.counts["truth_fraud"] += 1
            self._frauds[record.txn_id] = record.ts_ms
            heapq.heappush(self._fraud_order, (record.ts_ms, record.txn_id))
            self._dirty.add(TRUTH + record.txn_id)

    def take_decision(
        self, partition: int, offset: int, facts: DecisionFacts | None, now_s: float
    ) -> None:
        """One ``decisions`` record, in its partition's order (None: one that could not be
        read); it is taken in by :meth:`step` when its truth is known."""
        self._queues.setdefault(partition, deque()).append(_Waiting(offset, facts, now_s))

    def set_end(self, partition: int, at_end: bool) -> None:
        """``partition`` of ``decisions`` has (or no longer has) been read to its end."""
        if at_end:
            self._at_end.add(partition)
        else:
            self._at_end.discard(partition)

    # Steps

    def step(self, now_s: float) -> None:
        """Take in every decision whose truth is known (or waited long enough), then order
        the reviews the clock has passed and forget fraud truth too old to be matched."""
        wait_s = self.settings.service.truth_wait_s
        without_truth = self.counts["no_truth"]
        for partition, queue in self._queues.items():
            while queue:
                head = queue[0]
                facts = head.facts
                if facts is not None and facts.ts_ms > self.truth_through:
                    if now_s - head.seen_s < wait_s:
                        break
                    self.counts["no_truth"] += 1
                    facts = None
                elif facts is None:
                    self.counts["bad_decisions"] += 1
                if facts is not None:
                    self._take(partition, facts)
                queue.popleft()
                self._offsets[partition] = head.offset + 1
            self.clock.set_idle(partition, not queue and partition in self._at_end)
        if self.counts["no_truth"] > without_truth:  # once a step: a backlog may lack truth
            log.warning("%d decisions without ground truth after %.0f s: no label",
                        self.counts["no_truth"] - without_truth, wait_s)  # fmt: skip
        self._order_reviews()
        self._forget_old_truth()

    def _take(self, partition: int, facts: DecisionFacts) -> None:
        now = self.clock.now
        if (
            facts.decision == "review"
            and now is not None
            and (facts.ts_ms < now - self._order_window_ms)
        ):  # the day's capacity may already have gone to later reviews
            self.counts["late_reviews"] += 1
        self.counts[f"decisions_{facts.decision}"] += 1
        fraud = self._frauds.pop(facts.txn_id, None) is not None
        if fraud:
            self.counts["truth_matched"] += 1
            self._dirty.add(TRUTH + facts.txn_id)
        if facts.decision == "review":
            self._reviews[facts.txn_id] = (facts, fraud)
            heapq.heappush(self._review_order, (facts.ts_ms, facts.txn_id))
            self._dirty.add(REVIEW + facts.txn_id)
        elif facts.decision == "approve":
            self._hold(self.bank.label_for(facts, fraud))
        self.clock.observe(partition, facts.ts_ms)

    def _order_reviews(self) -> None:
        """Reviews the clock is more than ``review_order_window_s`` past take their day's
        capacity in (event time, id) order, as :func:`~fraudguard.outcomes.bank.bank_labels`
        gives it. Strictly past: another partition may still hold a review of the same
        millisecond."""
        now = self.clock.now
        while (
            self._review_order
            and now is not None
            and (self._review_order[0][0] < now - self._order_window_ms)
        ):
            _, txn_id = heapq.heappop(self._review_order)
            facts, fraud = self._reviews.pop(txn_id)
            day = facts.ts_ms // DAY_MS
            label = self.bank.label_for(facts, fraud)
            if label is None:
                self.counts["reviews_over_capacity"] += 1
            else:
                self._dirty.add(f"{DAY}{day}")
            self._hold(label)
            self._dirty.add(REVIEW + txn_id)

    def _forget_old_truth(self) -> None:
        now = self.clock.now
        while (
            self._fraud_order
            and now is not None
            and (self._fraud_order[0][0] < now - self._truth_ttl_ms)
        ):
            _, txn_id = heapq.heappop(self._fraud_order)
            if self._frauds.pop(txn_id, None) is not None:
                self.counts["truth_unmatched"] += 1
                log.warning("fraud truth of %s never matched a decision", txn_id)
                self._dirty.add(TRUTH + txn_id)

    def _hold(self, label: BankLabel | None) -> None:
        if label is not None:
            self._pending[label.txn_id] = label
            heapq.heappush(self._due_order, (label.reported_ms, label.txn_id))
            self._dirty.add(PENDING + label.txn_id)

    def release(self) -> list[BankLabel]:
        """The labels the stream's clock has reached, by report time then id; they leave the
        state (their changelog entries become tombstones)."""
        now = self.clock.now
        due: list[BankLabel] = []
        while self._due_order and now is not None and self._due_order[0][0] <= now:
            _, txn_id = heapq.heappop(self._due_order)
            label = self._pending.pop(txn_id, None)
            if label is not None:
                due.append(label)
                self.counts[f"labels_{label.source}"] += 1
                self._dirty.add(PENDING + txn_id)
        return due

    # What a round commits

    @property
    def decision_offsets(self) -> dict[int, int]:
        """Per partition of ``decisions``, the first offset not yet in the state."""
        return dict(self._offsets)

    def pending_labels(self) -> list[BankLabel]:
        """The labels given and not yet due, by report time then id."""
        return sorted(self._pending.values(), key=lambda x: (x.reported_ms, x.txn_id))

    @property
    def reviews_held(self) -> int:
        """Reviews waiting for the clock to pass them before they take their day's capacity."""
        return len(self._reviews)

    @property
    def waiting(self) -> int:
        """Decisions read but not yet taken in (waiting for their truth, or behind one)."""
        return sum(len(q) for q in self._queues.values())

    def changes(self) -> list[tuple[str, bytes | None]]:
        """The changelog entries since the last call (None: a tombstone), ``meta`` last."""
        out: list[tuple[str, bytes | None]] = []
        for key in sorted(self._dirty):
            value = self._entry(key)
            if value is None and key not in self._persisted:
                continue  # came and went within the round: nothing to undo
            out.append((key, value))
            if value is None:
                self._persisted.discard(key)
            else:
                self._persisted.add(key)
        self._dirty.clear()
        self.counts["pending"] = len(self._pending)
        self.counts["reviews_held"] = len(self._reviews)
        self.counts["truth_held"] = len(self._frauds)
        meta = {"clock": self.clock.to_dict(), "truth_through_ms": self.truth_through,
                "counts": dict(self.counts)}  # fmt: skip
        out.append((META, orjson.dumps(meta)))
        return out

    def _entry(self, key: str) -> bytes | None:
        kind, name = key[:2], key[2:]
        value: Any = None
        if kind == PENDING and name in self._pending:
            value = asdict(self._pending[name])
        elif kind == REVIEW and name in self._reviews:
            facts, fraud = self._reviews[name]
            value = {"facts": list(facts), "fraud": fraud}
        elif kind == TRUTH and name in self._frauds:
            value = self._frauds[name]
        elif kind == DAY and self.bank.reviews_per_day[int(name)]:
            value = self.bank.reviews_per_day[int(name)]
        return None if value is None else orjson.dumps(value)

    @classmethod
    def restore(
        cls,
        settings: OutcomesSettings,
        partitions: Iterable[int],
        entries: Iterable[tuple[str, bytes | None]],
    ) -> OutcomesState:
        """The state a changelog describes (its entries in order; the newest per key wins)."""
        newest: dict[str, bytes | None] = {}
        for key, value in entries:
            newest[key] = value
        partitions = list(partitions)
        state = cls(settings, partitions)
        for key, value in newest.items():
            if value is None:
                continue
            state._persisted.add(key)
            doc = orjson.loads(value)
            kind, name = key[:2], key[2:]
            if key == META:
                state.clock = StreamClock.from_dict(partitions, doc["clock"])
                state.truth_through = int(doc["truth_through_ms"])
                state.counts = Counter(doc["counts"])
            elif kind == PENDING:
                state._hold(BankLabel(**doc))
            elif kind == REVIEW:
                facts = DecisionFacts(*doc["facts"])
                state._reviews[name] = (facts, bool(doc["fraud"]))
                heapq.heappush(state._review_order, (facts.ts_ms, name))
            elif kind == TRUTH:
                state._frauds[name] = int(doc)
                heapq.heappush(state._fraud_order, (int(doc), name))
            elif kind == DAY:
                state.bank.reviews_per_day[int(name)] = int(doc)
        state._persisted.discard(META)
        state._dirty.clear()
        return state
