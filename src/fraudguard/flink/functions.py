"""Thin Python operators of the job, each called on a batch of records (see
:mod:`fraudguard.flink.batches`): validation with a dead-letter side output, and the decision
with the control topic as broadcast state. The feature steps between them are Java operators
around the feature kernel (:mod:`fraudguard.flink.feature_steps`).

Each keyed feature step applies the kernel to its entity's state in arrival order. Window
values do not depend on the order of simultaneous events, and the transactions topic is read in
the order it was written, so the stream computes what the offline path computes; a transaction
that arrives after a later one of the same entity is marked ``late`` on its decision (the
lateness policy in the README says what that changes).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import orjson
from pyflink.common.typeinfo import Types
from pyflink.datastream import (
    KeyedBroadcastProcessFunction,
    KeyedProcessFunction,
    OutputTag,
    ProcessFunction,
    RuntimeContext,
)
from pyflink.datastream.state import MapStateDescriptor, ValueStateDescriptor

from fraudguard.config import RedisSettings, Settings
from fraudguard.control import ThresholdsChange, parse_control
from fraudguard.decisions import Decider
from fraudguard.errors import ControlMessageError, InvalidTransaction
from fraudguard.exploration import ExplorationPolicy
from fraudguard.features import FEATURE_NAMES, FEATURES, feature_name
from fraudguard.flink.batches import pack_batch, unpack_batch, unpack_features
from fraudguard.flink.connectors import unframe
from fraudguard.schema import Transaction, dead_letter, parse_transaction
from fraudguard.scoring.reranker import Reranker
from fraudguard.scoring.reranker_control import RerankerChange

log = logging.getLogger(__name__)
BYTES = Types.PRIMITIVE_ARRAY(Types.BYTE())
DEAD_LETTERS = OutputTag("dead-letters", BYTES)
STOPPED = OutputTag("stopped", Types.PICKLED_BYTE_ARRAY())
"""Decisions the tiers made review or block: they pass the exploration step before the sink."""


def exposure_key(_element: Any) -> str:
    """One key for every stopped decision, so the exposure caps hold for the whole job."""
    return "exposure"


class ValidateBatch(ProcessFunction):
    """A batch of framed bytes from Kafka (see :func:`~fraudguard.flink.connectors.unframe`)
    to a batch of validated transactions' JSON; anything else, tombstones included, goes to
    ``DEAD_LETTERS`` with its reason and original bytes."""

    def __init__(self, max_future_ms: int, max_age_ms: int | None) -> None:
        self.max_future_ms = max_future_ms
        self.max_age_ms = max_age_ms

    def process_element(self, batch: bytes, ctx: ProcessFunction.Context) -> Iterator[Any]:
        now_ms = int(time.time() * 1000)
        valid = []
        for framed in unpack_batch(batch):
            value = unframe(framed)  # None: a tombstone, which parse_transaction refuses
            try:
                txn = parse_transaction(value, now_ms, self.max_future_ms, self.max_age_ms)
            except InvalidTransaction as exc:
                yield DEAD_LETTERS, dead_letter(value, exc, now_ms)
                continue
            except Exception as exc:  # noqa: BLE001 - hostile input must never crash the job
                error = InvalidTransaction("unparseable", f"{type(exc).__name__}: {exc}")
                yield DEAD_LETTERS, dead_letter(value, error, now_ms)
                continue
            valid.append(orjson.dumps(txn))  # the fields of Transaction, ts_ms included
        if valid:
            yield pack_batch(valid)


class OnlineStoreWriter:
    """Sends the newest card and merchant features to the online store without blocking.

    Writes are buffered by the store (newest per key); a full buffer is flushed by one
    background thread, so the operator waits for Redis only if the previous flush is still
    running. Lost buffered writes (a crash) are rewritten when the job replays from its
    checkpoint, and the store never lets a replay move a value backwards.
    """

    def __init__(self, store: Any, features: tuple[Any, ...], flush_every: int = 500) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.store = store
        # Per entity: its feature names, and where their values sit in the registry order.
        self.by_entity = {
            entity: (
                tuple(feature_name(f) for f in features if f.entity == entity),
                [i for i, f in enumerate(features) if f.entity == entity],
            )
            for entity in ("card", "merchant")
        }
        self.flush_every = flush_every
        self.pending = 0
        self.timer_set = False
        """Whether a flush timer is due: the decision step registers one per quiet spell."""
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="online-store")
        self.inflight: Any = None
        self.failures = 0

    def put(self, txn: Transaction, values: list[float]) -> None:
        """Buffer the newest card and merchant features; ``values`` in registry order."""
        for entity, entity_id in (("card", txn.card_id), ("merchant", txn.merchant_id)):
            names, positions = self.by_entity[entity]
            self.store.put_values(
                entity, entity_id, txn.ts_ms, txn.txn_id, names, [values[i] for i in positions]
            )
        self.pending += 1
        if self.pending >= self.flush_every:
            self.flush(wait=False)

    def flush(self, wait: bool) -> None:
        if self.inflight is not None:
            self._settle(self.inflight)
        self.pending = 0
        self.timer_set = False
        # Detached here, sent there: the store's buffer is only ever touched by this thread.
        self.inflight = self.pool.submit(self.store.send, self.store.take())
        if wait:
            self._settle(self.inflight)
            self.inflight = None

    def _settle(self, future: Any) -> None:
        try:
            future.result(timeout=30)
        except Exception as exc:  # noqa: BLE001 - the store must never stop decisions
            self.failures += 1
            if self.failures in (1, 10, 100) or self.failures % 1000 == 0:
                log.warning("online store flush failed (%dx): %s", self.failures, exc)

    def close(self) -> None:
        self.flush(wait=True)
        self.pool.shutdown(wait=True)


CONTROL_STATE = MapStateDescriptor("control", Types.STRING(), Types.PICKLED_BYTE_ARRAY())
"""Broadcast state of the decision step: the newest control message of each type."""


class DecideBatch(KeyedBroadcastProcessFunction):
    """A batch of transactions with their features in (``PackForDecision``), their decision
    records out, packed; reviews and blocks go to ``STOPPED`` for the exploration step.

    Batches are keyed only so that the online store's flush can run on a timer. The ``control``
    topic arrives as broadcast state: new threshold tiers and re-ranker snapshots apply from the
    next transaction on, without a restart, and are checkpointed with the job.
    """

    def __init__(
        self, redis: RedisSettings | None, explore: bool = False, models_dir: str | None = None
    ) -> None:
        self.redis = redis
        self.explore = explore
        self.models_dir = models_dir

    @classmethod
    def from_settings(cls, settings: Settings) -> DecideBatch:
        return cls(
            settings.redis if settings.redis.online_store else None,
            explore=settings.exploration.share > 0,
            models_dir=str(settings.models_dir),
        )

    def open(self, runtime_context: RuntimeContext) -> None:
        from pathlib import Path

        self.decider = Decider(models_dir=Path(self.models_dir) if self.models_dir else None)
        self._reranker_in_force: Reranker | None = None
        self._control: dict[str, Any] | None = None
        self.online: OnlineStoreWriter | None = None
        if self.redis is not None:
            from fraudguard.online_store import OnlineFeatureStore

            store = OnlineFeatureStore.from_settings(Settings(redis=self.redis))
            store.flush_every = 2**31  # the writer decides when to flush, off this thread
            self.online = OnlineStoreWriter(store, FEATURES)

    def close(self) -> None:
        if self.online is not None:
            self.online.close()

    def process_broadcast_element(self, value: bytes, ctx: Any) -> None:
        try:
            change = parse_control(value)
        except ControlMessageError as exc:
            log.warning("skipped a control message: %s", exc)
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

    def on_timer(self, timestamp: int, ctx: Any) -> Iterator[bytes]:
        # Quiet input: send what is buffered instead of waiting for a full buffer.
        if self.online is not None:
            self.online.timer_set = False
            if self.online.pending:
                self.online.flush(wait=False)
        return iter(())

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
        for packed in unpack_batch(batch):
            values, late, txn_json = unpack_features(packed)
            txn = Transaction(**orjson.loads(txn_json))
            features = dict(zip(FEATURE_NAMES, values, strict=True))
            record = self.decider.decide(txn, features, now_ms, late, tiers, reranker, base_version)
            if self.online is not None:
                self.online.put(txn, values)
            if self.explore and record.decision != "approve":
                yield STOPPED, (record, txn.ts_ms, features["txn_amount_eur"])
            else:
                decided.append(record.to_json())
        if self.online is not None and self.online.pending and not self.online.timer_set:
            # The first writes since a flush: one timer, not one per batch.
            self.online.timer_set = True
            ctx.timer_service().register_processing_time_timer(now_ms + 500)
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

    def process_element(self, value: Any, ctx: KeyedProcessFunction.Context) -> Iterator[bytes]:
        record, ts_ms, amount_eur = value
        state = self.exposure.value() or self.policy.new_state()
        outcome = self.policy.apply(state, record.decision, record.txn_id, ts_ms, amount_eur)
        self.exposure.update(state)
        yield replace(
            record,
            decision=outcome.decision,
            explored=outcome.explored,
            propensity=outcome.propensity,
        ).to_json()
