"""Thin Python operators of the job, each called on a batch of records (see
:mod:`fraudguard.flink.batches`): validation with a dead-letter side output, and the decision
with the control topic as broadcast state. The feature steps between them, and the online
store's writer, are Java operators (:mod:`fraudguard.flink.feature_steps`).

Each keyed feature step applies the kernel to its entity's state in arrival order. Window
values do not depend on the order of simultaneous events, and the transactions topic is read in
the order it was written, so the stream computes what the offline path computes; a transaction
that arrives after a later one of the same entity is marked ``late`` on its decision (the
lateness policy in docs/features.md says what that changes).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import orjson
from pyflink.common.typeinfo import Types
from pyflink.datastream import (
    BroadcastProcessFunction,
    KeyedProcessFunction,
    OutputTag,
    ProcessFunction,
    RuntimeContext,
)
from pyflink.datastream.state import MapStateDescriptor, ValueStateDescriptor

from fraudguard.config import Settings
from fraudguard.control.messages import RerankerChange, ThresholdsChange, parse_control
from fraudguard.decision.decider import Decider
from fraudguard.decision.exploration import ExplorationPolicy
from fraudguard.errors import ControlMessageError, InvalidTransaction
from fraudguard.features import FEATURE_NAMES
from fraudguard.flink.batches import pack_batch, unpack_batch, unpack_features
from fraudguard.flink.connectors import unframe
from fraudguard.metrics import names as metric
from fraudguard.metrics.counters import InMemoryGroup, JobMetrics
from fraudguard.reranker.model import Reranker
from fraudguard.wire.transactions import REASONS, Transaction, dead_letter, parse_transaction

log = logging.getLogger(__name__)
BYTES = Types.PRIMITIVE_ARRAY(Types.BYTE())
DEAD_LETTERS = OutputTag("dead-letters", BYTES)
STOPPED = OutputTag(
    "stopped", Types.TUPLE([Types.LONG(), Types.STRING(), Types.PICKLED_BYTE_ARRAY()])
)
"""Decisions the tiers made review or block, as ``(event time ms, txn_id, (decision record,
amount in euro))``: they pass the exploration step before the sink. The Java side reads the
first two to put them in processing order (``io.fraudguard.flink.StoppedInEventTimeOrder``)."""
OUTCOMES = ("approve", "review", "block")


def exposure_key(_element: Any) -> str:
    """One key for every stopped decision, so the exposure caps hold for the whole job."""
    return "exposure"


NO_EVENT_YET = -(2**62)
EVENT_CLOCK_AHEAD_MS = 2**63
"""On the event clock a transaction is never too far ahead: it moves the clock."""


class ValidateBatch(ProcessFunction):
    """A batch of framed bytes from Kafka (see :func:`~fraudguard.flink.connectors.unframe`)
    to a batch of validated transactions' JSON; anything else, tombstones included, goes to
    ``DEAD_LETTERS`` with its reason and original bytes, counted by reason
    (:data:`fraudguard.metrics.names.DEAD_LETTERS`)."""

    def __init__(self, max_future_ms: int, max_age_ms: int | None, clock: str = "wall") -> None:
        self.max_future_ms = max_future_ms
        self.max_age_ms = max_age_ms
        self.event_clock = clock == "event"
        self.newest_event_ms = NO_EVENT_YET
        """The event clock: the newest event time validated. Not checkpointed: after a
        restart it starts again from the first transaction read, so only the age check is
        lenient for a moment."""
        self.metrics = JobMetrics(InMemoryGroup())

    def open(self, runtime_context: RuntimeContext) -> None:
        self.metrics = JobMetrics(runtime_context.get_metrics_group())
        self.metrics.register(metric.DEAD_LETTERS, list(REASONS))

    def process_element(self, batch: bytes, ctx: ProcessFunction.Context) -> Iterator[Any]:
        now_ms = int(time.time() * 1000)
        valid = []
        refused: Counter[str] = Counter()
        for framed in unpack_batch(batch):
            value = unframe(framed)  # None: a tombstone, which parse_transaction refuses
            try:
                if self.event_clock:  # nothing is ahead of the newest event time
                    clock, ahead = self.newest_event_ms, EVENT_CLOCK_AHEAD_MS
                else:
                    clock, ahead = now_ms, self.max_future_ms
                txn = parse_transaction(value, clock, ahead, self.max_age_ms)
                self.newest_event_ms = max(self.newest_event_ms, txn.ts_ms)
            except InvalidTransaction as exc:
                refused[exc.reason] += 1
                yield DEAD_LETTERS, dead_letter(value, exc, now_ms)
                continue
            except Exception as exc:  # noqa: BLE001 - hostile input must never crash the job
                error = InvalidTransaction("unparseable", f"{type(exc).__name__}: {exc}")
                refused[error.reason] += 1
                yield DEAD_LETTERS, dead_letter(value, error, now_ms)
                continue
            valid.append(orjson.dumps(txn))  # the fields of Transaction, ts_ms included
        self.metrics.dead_letters(refused)
        if valid:
            yield pack_batch(valid)


FEATURE_INDEX = {name: at for at, name in enumerate(FEATURE_NAMES)}
"""Each feature's position in what ``PackForDecision`` packs (the registry's order)."""

CONTROL_STATE = MapStateDescriptor("control", Types.STRING(), Types.PICKLED_BYTE_ARRAY())
"""Broadcast state of the decision step: the newest control message of each type."""


class DecideBatch(BroadcastProcessFunction):
    """A batch of transactions with their features in (``PackForDecision``), their decision
    records out, packed; reviews and blocks go to ``STOPPED`` for the exploration step.

    The ``control`` topic arrives as broadcast state: new threshold tiers and re-ranker
    snapshots apply from the next batch on, without a restart, and are checkpointed with the job.
    The champion model's base score comes with the features (``PackForDecision`` scores in the
    JVM); a transaction without one is scored by the rules and marked degraded.

    The step counts what it writes (:mod:`fraudguard.metrics.counters`): decisions by outcome
    (the stopped ones are counted after exploration), degraded and late ones, the versions in
    force, and each decision's latency from its event time, which producers also set as the
    Kafka record's timestamp. ``measure_latency`` is off on a replay's event clock, where event
    times are history.
    """

    def __init__(self, explore: bool = False, measure_latency: bool = True) -> None:
        self.explore = explore
        self.measure_latency = measure_latency
        self.metrics = JobMetrics(InMemoryGroup())

    @classmethod
    def from_settings(cls, settings: Settings) -> DecideBatch:
        return cls(
            explore=settings.exploration.share > 0,
            measure_latency=settings.validation.clock == "wall",
        )

    def open(self, runtime_context: RuntimeContext) -> None:
        self.decider = Decider()
        self._reranker_in_force: Reranker | None = None
        self._control: dict[str, Any] | None = None
        self.metrics = JobMetrics(runtime_context.get_metrics_group())
        self.metrics.register(metric.DECISIONS, OUTCOMES)
        for unlabelled in (metric.DEGRADED, metric.LATE, metric.LATENCY_SUM, metric.LATENCY_COUNT):
            self.metrics.counter(unlabelled)
        self.metrics.register(metric.LATENCY_BUCKET, metric.latency_bucket_labels())

    def process_broadcast_element(self, value: bytes, ctx: Any) -> None:
        try:
            change = parse_control(value)
        except ControlMessageError as exc:
            log.warning("skipped a control message: %s", exc)
            return
        if not isinstance(change, ThresholdsChange | RerankerChange):
            log.info("control: %s noted", change.type)  # a record for people, not for deciding
            return
        ctx.get_broadcast_state(CONTROL_STATE).put(change.type, change)
        self._control = None
        version = change.snapshot.version if isinstance(change, RerankerChange) else (
            change.tiers.version
        )  # fmt: skip
        log.info("control: %s %s applied", change.type, version)

    def _reranker(self, change: RerankerChange | None) -> Reranker | None:
        # Restoring a snapshot costs far more than a score: keep the one in force until the
        # broadcast state names another (it survives a restart; this cache does not).
        if change is None:
            return None
        if self._reranker_in_force is None or (
            self._reranker_in_force.version != change.snapshot.version
        ):
            self._reranker_in_force = change.snapshot.restore()
        return self._reranker_in_force

    def process_element(self, batch: bytes, ctx: Any) -> Iterator[Any]:
        now_ms = int(time.time() * 1000)
        if self._control is None:
            # Reading broadcast state crosses into the JVM; it changes only in
            # process_broadcast_element (which clears this copy) and on restore (open).
            state = ctx.get_broadcast_state(CONTROL_STATE)
            self._control = {t: state.get(t) for t in (ThresholdsChange.type, RerankerChange.type)}
        change = self._control[ThresholdsChange.type]
        tiers = change.tiers if change is not None else None
        rerank = self._control[RerankerChange.type]
        reranker = self._reranker(rerank)
        base_version = rerank.base_model_version if rerank is not None else None
        decided = []
        outcomes: Counter[str] = Counter()
        degraded = late_count = 0
        latencies: list[int] = []
        record = None
        for packed in unpack_batch(batch):
            features, late, scored, shadow, txn_json = unpack_features(packed, FEATURE_INDEX)
            txn = Transaction.from_validated(txn_json)
            record = self.decider.decide(
                txn, features, now_ms, late, tiers, reranker, base_version, scored, shadow
            )  # fmt: skip
            degraded += record.degraded
            late_count += late
            if self.measure_latency:
                latencies.append(now_ms - txn.ts_ms)
            if self.explore and record.decision != "approve":
                yield STOPPED, (txn.ts_ms, txn.txn_id, (record, features["txn_amount_eur"]))
            else:
                outcomes[record.decision] += 1
                decided.append(record.to_json())
        self.metrics.decisions(outcomes, degraded, late_count)
        self.metrics.latencies(latencies)
        if record is not None:
            self.metrics.in_force(record.model_version, record.threshold_version)
        if decided:
            yield pack_batch(decided)


class ExploreStopped(KeyedProcessFunction):
    """One key for all stopped decisions, so the exposure caps hold for the whole job: a small
    share of would-be reviews and blocks is approved instead, with its propensity recorded."""

    def __init__(self, policy: ExplorationPolicy) -> None:
        self.policy = policy

    @classmethod
    def from_settings(cls, settings: Settings) -> ExploreStopped:
        return cls(ExplorationPolicy(**settings.exploration.model_dump()))

    def open(self, runtime_context: RuntimeContext) -> None:
        self.exposure = runtime_context.get_state(
            ValueStateDescriptor("exposure", Types.PICKLED_BYTE_ARRAY())
        )
        self.metrics = JobMetrics(runtime_context.get_metrics_group())
        self.metrics.register(metric.DECISIONS, OUTCOMES)
        self.metrics.counter(metric.EXPLORED)

    def process_element(self, value: Any, ctx: KeyedProcessFunction.Context) -> Iterator[bytes]:
        ts_ms, _txn_id, (record, amount_eur) = value
        state = self.exposure.value() or self.policy.new_state()
        outcome = self.policy.apply(state, record.decision, record.txn_id, ts_ms, amount_eur)
        self.exposure.update(state)
        self.metrics.explored(outcome.decision, outcome.explored)
        yield replace(
            record,
            decision=outcome.decision,
            explored=outcome.explored,
            propensity=outcome.propensity,
        ).to_json()
