"""Thin Flink operators around the library: validation with a dead-letter side output, the three
keyed feature steps with their checkpointed state, and the decision.

Each keyed step applies the library's step to its entity's state in arrival order. Window values
do not depend on the order of simultaneous events (see :mod:`fraudguard.features.windows`), and
the transactions topic is read in the order it was written, so the stream computes what the
offline path computes; a transaction that arrives after a later one of the same entity is
marked ``late`` on its decision (the lateness policy in the README says what that changes).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Hashable, Iterator
from dataclasses import replace
from typing import Any

from pyflink.common.time import Time
from pyflink.common.typeinfo import Types
from pyflink.datastream import (
    KeyedBroadcastProcessFunction,
    KeyedProcessFunction,
    OutputTag,
    ProcessFunction,
    RuntimeContext,
)
from pyflink.datastream.state import MapStateDescriptor, StateTtlConfig, ValueStateDescriptor

from fraudguard.config import RedisSettings, Settings
from fraudguard.control import ThresholdsChange, parse_control
from fraudguard.decisions import Decider
from fraudguard.errors import ControlMessageError, InvalidTransaction
from fraudguard.exploration import ExplorationPolicy
from fraudguard.features import (
    FEATURE_NAMES,
    CardStep,
    DeviceStep,
    FeatureEngine,
    MerchantStep,
    feature_name,
)
from fraudguard.flink.connectors import unframe
from fraudguard.schema import Transaction, dead_letter, parse_transaction
from fraudguard.scoring.reranker import Reranker
from fraudguard.scoring.reranker_control import RerankerChange

log = logging.getLogger(__name__)
BYTES = Types.PRIMITIVE_ARRAY(Types.BYTE())
DEAD_LETTERS = OutputTag("dead-letters", BYTES)
STOPPED = OutputTag("stopped", Types.PICKLED_BYTE_ARRAY())
"""Decisions the tiers made review or block: they pass the exploration step before the sink."""

# What flows between the keyed steps: the transaction, its features so far, and whether it
# was late anywhere on the way.
Enriched = tuple[Transaction, dict[str, float], bool]


def card_key(txn: Transaction) -> str:
    return txn.card_id


def merchant_key(element: Enriched) -> str:
    return element[0].merchant_id


def device_key(element: Enriched) -> str:
    """Transactions without a device share the empty key (they keep no device state)."""
    return element[0].device_id or ""


def exposure_key(_element: Any) -> str:
    """One key for every stopped decision, so the exposure caps hold for the whole job."""
    return "exposure"


class ValidateTransactions(ProcessFunction):
    """Framed bytes from Kafka (see :func:`~fraudguard.flink.connectors.unframe`) to
    :class:`Transaction`; anything else, tombstones included, goes to ``DEAD_LETTERS``."""

    def __init__(self, max_future_ms: int, max_age_ms: int | None) -> None:
        self.max_future_ms = max_future_ms
        self.max_age_ms = max_age_ms

    def process_element(self, framed: bytes, ctx: ProcessFunction.Context) -> Iterator[Any]:
        now_ms = int(time.time() * 1000)
        value = unframe(framed)  # None: a tombstone, which parse_transaction refuses
        try:
            yield parse_transaction(value, now_ms, self.max_future_ms, self.max_age_ms)
        except InvalidTransaction as exc:
            yield DEAD_LETTERS, dead_letter(value, exc, now_ms)
        except Exception as exc:  # noqa: BLE001 - hostile input must never crash the job
            error = InvalidTransaction("unparseable", f"{type(exc).__name__}: {exc}")
            yield DEAD_LETTERS, dead_letter(value, error, now_ms)


class _LateTracking:
    """Remembers the newest event time of the key, to flag transactions that arrive late."""

    newest: Any

    def open(self, runtime_context: RuntimeContext) -> None:
        self.newest = runtime_context.get_state(ValueStateDescriptor("newest", Types.LONG()))
        self.open_state(runtime_context)

    def open_state(self, runtime_context: RuntimeContext) -> None:
        raise NotImplementedError

    def arrived_late(self, ts_ms: int) -> bool:
        newest = self.newest.value()
        if newest is None or ts_ms >= newest:
            self.newest.update(ts_ms)
            return False
        return True


class _Ordered(_LateTracking, KeyedProcessFunction):
    pass


class CardFeatures(_Ordered):
    """Keyed by card: drop retried ids, then transaction-level and card features."""

    def __init__(self, engine: FeatureEngine, dedupe_ttl_ms: int) -> None:
        self.step = CardStep(engine, dedupe_ttl_ms)

    def open_state(self, runtime_context: RuntimeContext) -> None:
        self.card = runtime_context.get_state(
            ValueStateDescriptor("card", Types.PICKLED_BYTE_ARRAY())
        )

    def process_element(
        self, txn: Transaction, ctx: KeyedProcessFunction.Context
    ) -> Iterator[Enriched]:
        state = self.card.value() or self.step.new_state()
        features = self.step(state, txn)
        if features is None:
            return  # a retry of a transaction already answered
        self.card.update(state)
        yield txn, features, self.arrived_late(txn.ts_ms)


class _LastSeen:
    """A view of Flink map state as the ``last_seen`` mapping of minute buckets."""

    __slots__ = ("state", "prefix")

    def __init__(self, state: Any, prefix: str) -> None:
        self.state, self.prefix = state, prefix

    def get(self, key: Hashable, default: int | None = None) -> int | None:
        value = self.state.get(f"{self.prefix}{key}")
        return default if value is None else value

    def __setitem__(self, key: Hashable, minute: int) -> None:
        self.state.put(f"{self.prefix}{key}", minute)


class MerchantFeatures(_Ordered):
    """Keyed by merchant: merchant and terminal features from minute buckets."""

    def __init__(self, engine: FeatureEngine) -> None:
        self.step = MerchantStep(engine)

    def open_state(self, runtime_context: RuntimeContext) -> None:
        self.merchant = runtime_context.get_state(
            ValueStateDescriptor("merchant", Types.PICKLED_BYTE_ARRAY())
        )
        self.terminals = runtime_context.get_map_state(
            MapStateDescriptor("terminals", Types.STRING(), Types.PICKLED_BYTE_ARRAY())
        )
        last_seen = MapStateDescriptor("last-seen", Types.STRING(), Types.LONG())
        # A card's last minute at a merchant matters for 7 days; after that an entry is dead
        # weight (a missing entry and an expired one count the same), so Flink may drop it.
        last_seen.enable_time_to_live(
            StateTtlConfig.new_builder(Time.days(8))
            .set_update_type(StateTtlConfig.UpdateType.OnCreateAndWrite)
            .set_state_visibility(StateTtlConfig.StateVisibility.NeverReturnExpired)
            .cleanup_full_snapshot()
            .build()
        )
        self.last_seen = runtime_context.get_map_state(last_seen)

    def process_element(
        self, element: Enriched, ctx: KeyedProcessFunction.Context
    ) -> Iterator[Enriched]:
        txn, features, was_late = element
        merchant = self.merchant.value()
        if merchant is None:
            merchant = self.step.new_merchant_state()
        merchant.last_seen = _LastSeen(self.last_seen, "m:")
        terminal = self.terminals.get(txn.terminal_id)
        if terminal is None:
            terminal = self.step.new_terminal_state()
        terminal.last_seen = _LastSeen(self.last_seen, f"t:{txn.terminal_id}:")
        features.update(self.step(merchant, terminal, txn))
        self.merchant.update(merchant)
        self.terminals.put(txn.terminal_id, terminal)
        yield txn, features, self.arrived_late(txn.ts_ms) or was_late


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
        self.by_entity = {
            entity: [feature_name(f) for f in features if f.entity == entity]
            for entity in ("card", "merchant")
        }
        self.flush_every = flush_every
        self.pending = 0
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="online-store")
        self.inflight: Any = None
        self.failures = 0

    def put(self, txn: Transaction, features: dict[str, float]) -> None:
        for entity, entity_id in (("card", txn.card_id), ("merchant", txn.merchant_id)):
            names = self.by_entity[entity]
            self.store.put(
                entity, entity_id, txn.ts_ms, txn.txn_id, {n: features[n] for n in names}
            )
        self.pending += 1
        if self.pending >= self.flush_every:
            self.flush(wait=False)

    def flush(self, wait: bool) -> None:
        if self.inflight is not None:
            self._settle(self.inflight)
        self.pending = 0
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


class DeviceFeaturesAndDecide(_LateTracking, KeyedBroadcastProcessFunction):
    """Keyed by device: device features, then the score and the decision record.

    Transactions without a device share the empty key and keep no state. The ``control``
    topic arrives as broadcast state: new threshold tiers and re-ranker snapshots apply from the
    next transaction on, without a restart, and are checkpointed with the job.
    """

    def __init__(
        self,
        engine: FeatureEngine,
        redis: RedisSettings | None,
        explore: bool = False,
        models_dir: str | None = None,
    ) -> None:
        self.step = DeviceStep(engine)
        self.redis = redis
        self.explore = explore
        self.models_dir = models_dir

    @classmethod
    def from_settings(cls, engine: FeatureEngine, settings: Settings) -> DeviceFeaturesAndDecide:
        return cls(
            engine,
            settings.redis if settings.redis.online_store else None,
            explore=settings.exploration.share > 0,
            models_dir=str(settings.models_dir),
        )

    def open_state(self, runtime_context: RuntimeContext) -> None:
        self.device = runtime_context.get_state(
            ValueStateDescriptor("device", Types.PICKLED_BYTE_ARRAY())
        )
        from pathlib import Path

        self.decider = Decider(models_dir=Path(self.models_dir) if self.models_dir else None)
        self._reranker_in_force: Reranker | None = None
        self._control: dict[str, Any] | None = None
        self.online: OnlineStoreWriter | None = None
        if self.redis is not None:
            from fraudguard.online_store import OnlineFeatureStore

            store = OnlineFeatureStore.from_settings(Settings(redis=self.redis))
            store.flush_every = 2**31  # the writer decides when to flush, off this thread
            self.online = OnlineStoreWriter(store, self.step.engine.features)

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
        if self.online is not None and self.online.pending:
            self.online.flush(wait=False)
        return iter(())

    def process_element(self, element: Enriched, ctx: Any) -> Iterator[Any]:
        txn, features, late = element
        if txn.device_id is None:
            features.update(self.step(None, txn))
        else:
            state = self.device.value()
            if state is None:
                state = self.step.new_state()
            features.update(self.step(state, txn))
            self.device.update(state)
            late = self.arrived_late(txn.ts_ms) or late
        ordered = {name: features[name] for name in FEATURE_NAMES}
        now_ms = int(time.time() * 1000)
        if self._control is None:
            # Reading broadcast state crosses into the JVM; it changes only in
            # process_broadcast_element (which clears this copy) and on restore (open_state).
            state = ctx.get_broadcast_state(CONTROL_STATE)
            self._control = {t: state.get(t) for t in (ThresholdsChange.type, RerankerChange.type)}
        change = self._control[ThresholdsChange.type]
        tiers = change.tiers if change is not None else None
        rerank = self._control[RerankerChange.type]
        record = self.decider.decide(
            txn, ordered, now_ms, late, tiers, self._reranker(rerank),
            rerank.base_model_version if rerank is not None else None,
        )  # fmt: skip
        if self.online is not None:
            self.online.put(txn, ordered)
            if self.online.pending == 1:  # the first write since a flush: one timer, not one each
                ctx.timer_service().register_processing_time_timer(now_ms + 500)
        if self.explore and record.decision != "approve":
            yield STOPPED, (record, txn.ts_ms, ordered["txn_amount_eur"])
        else:
            yield record.to_json()


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
