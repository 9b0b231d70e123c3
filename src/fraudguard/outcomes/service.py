"""The outcomes service (``fraudguard outcomes run``): the committed decisions and the
generator's ground truth in, the labels a bank would learn out on ``labels``, exactly once.

The policy and its state are :mod:`~fraudguard.outcomes.state` (no Kafka); this module is the
Kafka loop around them. Each round:

1. reads what ``ground_truth`` has (truth and marks), then up to ``round_records`` decisions
   (``read_committed``: only what the job committed);
2. takes in every decision whose truth is known, orders the reviews, and releases the labels
   the stream's clock has reached;
3. commits one Kafka transaction holding those labels, the round's changelog entries
   (``outcomes.state``, compacted) and the positions in ``decisions`` and ``ground_truth``
   after what the state took in (``send_offsets_to_transaction`` to the service's group).

Killed at any point, a round's transaction is never committed: a ``read_committed`` reader of
``labels`` sees none of its labels, the changelog none of its entries, and the group still has
the positions before it. The restarted service (same transactional id, which fences and aborts
what the dead one left open) rebuilds its state from the changelog, which is exactly the state
after the last committed round, and reads on from exactly that round's positions; so every
decision is taken in once, each label is released once, none is lost. The decisions that were
waiting for their truth were never committed as read, so they are read again.

A first start (no position committed for the group) reads both topics from their end: only
payments generated from then on have their truth on ``ground_truth`` for sure. ``--from-
beginning`` reads what is already there instead; it commits those starting positions in its
first round, so a crash right after the start does not move them.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import orjson
from confluent_kafka import KafkaException, Producer, TopicPartition

from fraudguard.config import Settings
from fraudguard.errors import ConfigError, InvalidInput, StackError
from fraudguard.outcomes.bank import DecisionFacts
from fraudguard.outcomes.state import OutcomesState
from fraudguard.streams.kafka import (
    ProducerLike,
    TopicTail,
    abort_quietly,
    assigned_consumer,
    committed_offsets,
    end_offsets,
    produce_waiting,
    read_topic,
    transactional_producer,
)
from fraudguard.wire.ground_truth import parse_ground_truth

log = logging.getLogger(__name__)
LOG_EVERY_S = 30.0
TRUTH_PER_ROUND = 50_000


def outcomes_group(settings: Settings) -> str:
    """The service's consumer group on ``decisions`` and ``ground_truth``, also its Kafka
    transactional id: one service per labels topic (a second one fences the first).

    >>> outcomes_group(Settings())
    'fraudguard-outcomes-labels'
    """
    return f"fraudguard-outcomes-{settings.topics.labels.name}"


def status_path(settings: Settings) -> Path:
    """Where the service writes its status after every round (``fraudguard outcomes status``
    and the demo read it)."""
    return settings.run_dir / f"{outcomes_group(settings)}.json"


@dataclass
class ServiceStatus:
    """What the service has done over its whole life (the counters are in the changelog) and
    where it stands."""

    counts: dict[str, int] = field(default_factory=dict)
    clock_ms: int | None = None
    truth_through_ms: int = -1
    waiting: int = 0
    """Decisions read, waiting for their truth (or behind one)."""
    rounds: int = 0
    """Transactions committed by this process."""

    @property
    def labels(self) -> int:
        return sum(v for k, v in self.counts.items() if k.startswith("labels_"))

    def to_dict(self) -> dict[str, Any]:
        return {"pid": os.getpid(), "updated_at_ms": int(time.time() * 1000),
                "labels": self.labels, "clock_ms": self.clock_ms,
                "truth_through_ms": self.truth_through_ms, "waiting": self.waiting,
                "rounds": self.rounds, "counts": self.counts}  # fmt: skip


class OutcomesService:
    """The Kafka loop around :class:`~fraudguard.outcomes.state.OutcomesState`."""

    def __init__(self, settings: Settings, from_beginning: bool = False) -> None:
        self.settings = settings
        self.from_beginning = from_beginning
        self.status = ServiceStatus()
        self._producer: Producer | None = None

    def run(
        self, stop: Callable[[], bool] = lambda: False, until_idle_s: float | None = None
    ) -> ServiceStatus:
        """Run rounds until ``stop()``, or until nothing new came for ``until_idle_s`` with no
        decision left waiting."""
        topics = self.settings.topics
        group = outcomes_group(self.settings)
        self._producer = transactional_producer(self.settings, group, "outcomes service")
        manual: dict[str, Any] = {"group.id": group, "enable.auto.commit": False}
        decisions: TopicTail | None = None
        truth: TopicTail | None = None
        try:
            partitions = sorted(end_offsets(self.settings, topics.decisions.name))
            truth_partitions = sorted(end_offsets(self.settings, topics.ground_truth.name))
            if len(truth_partitions) != 1:
                raise ConfigError(
                    f"{topics.ground_truth.name!r} has {len(truth_partitions)} partitions; "
                    "the outcomes service needs 1 (a mark must follow the truth it vouches for)"
                )
            state = self._restore(partitions)
            start = self._start_offsets(group)
            decisions = TopicTail(assigned_consumer(
                self.settings, topics.decisions.name, start_offsets=start[0], **manual
            ))  # fmt: skip
            truth = TopicTail(assigned_consumer(
                self.settings, topics.ground_truth.name, start_offsets=start[1], **manual
            ))  # fmt: skip
            truth_offsets = dict(start[1])
            committed: dict[str, dict[int, int]] | None = None
            idle_since = time.monotonic()
            last_log = 0.0
            while not stop():
                read = self._read_truth(truth, state, truth_offsets)
                read += self._read_decisions(decisions, state)
                now_s = time.monotonic()
                state.step(now_s=time.time())
                released = state.release()
                changes = state.changes()
                offsets = {
                    topics.decisions.name: {**start[0], **state.decision_offsets},
                    topics.ground_truth.name: truth_offsets,
                }
                # meta is always among the changes; commit when anything else moved
                if read or released or len(changes) > 1 or offsets != committed:
                    self._commit(released, changes, offsets, decisions)
                    self.status.rounds += 1
                    committed = {topic: dict(o) for topic, o in offsets.items()}
                self._report(state, now_s - last_log >= LOG_EVERY_S)
                if now_s - last_log >= LOG_EVERY_S:
                    last_log = now_s
                if read or state.waiting:
                    idle_since = now_s
                elif until_idle_s is not None and now_s - idle_since >= until_idle_s:
                    break
        except BaseException:
            abort_quietly(self._producer)
            raise
        finally:
            for tail in (decisions, truth):
                if tail is not None:
                    tail.close()
        return self.status

    # Starting points

    def _restore(self, partitions: list[int]) -> OutcomesState:
        """The state after the last committed round, from the changelog. Read after
        ``init_transactions``, which aborted anything a dead service left open."""
        name = self.settings.topics.outcomes_state.name
        entries = (
            (key.decode(), m.value())
            for m in read_topic(self.settings, name, idle_timeout_s=0.0)
            if (key := m.key()) is not None
        )
        state = OutcomesState.restore(self.settings.outcomes, partitions, entries)
        log.info("outcomes state restored: %d labels pending, %d reviews held, clock %s",
                 len(state.pending_labels()), state.reviews_held, state.clock.now)  # fmt: skip
        return state

    def _start_offsets(self, group: str) -> tuple[dict[int, int], dict[int, int]]:
        """Where to read ``decisions`` and ``ground_truth``: the group's positions; on a first
        start, the topics' ends (or beginnings, ``from_beginning``)."""
        topics = self.settings.topics
        result = []
        for topic in (topics.decisions.name, topics.ground_truth.name):
            ends = end_offsets(self.settings, topic)
            committed = committed_offsets(self.settings, topic, group)
            if committed:
                result.append({p: committed.get(p, 0) for p in ends})
            else:
                result.append({p: 0 if self.from_beginning else end for p, end in ends.items()})
                log.info("first start on %s: from its %s", topic,
                         "beginning" if self.from_beginning else "end")  # fmt: skip
        return result[0], result[1]

    # Reading

    def _read_truth(self, truth: TopicTail, state: OutcomesState, offsets: dict[int, int]) -> int:
        """Everything ``ground_truth`` has now (up to a bound), into the state."""
        read = 0
        while read < TRUTH_PER_ROUND:
            batch = truth.poll(10_000, timeout_s=0.0)  # the decisions' wait is the round's
            for partition, offset, value in batch:
                try:
                    record = parse_ground_truth(value)
                except InvalidInput as exc:
                    log.warning("ground truth at offset %d refused: %s", offset, exc)
                    record = None
                state.take_truth(record)
                offsets[partition] = offset + 1
            read += len(batch)
            if not batch or truth.at_end:
                break
        return read

    def _read_decisions(self, decisions: TopicTail, state: OutcomesState) -> int:
        """Up to ``round_records`` decisions, for at most ``round_s``."""
        service = self.settings.outcomes.service
        deadline = time.monotonic() + service.round_s
        read = 0
        now_s = time.time()
        while read < service.round_records and (left := deadline - time.monotonic()) > 0:
            batch = decisions.poll(service.round_records - read, timeout_s=min(left, 0.2))
            for partition, offset, value in batch:
                state.take_decision(partition, offset, _facts(value, partition, offset), now_s)
            read += len(batch)
            if decisions.at_end and not batch:
                break
        for partition in decisions.partitions:
            state.set_end(partition, partition in decisions.ended)
        return read

    # Committing

    def _commit(
        self,
        labels: list[Any],
        changes: list[tuple[str, bytes | None]],
        offsets: dict[str, dict[int, int]],
        decisions: TopicTail,
    ) -> None:
        """The round's labels, changelog entries and input positions, in one transaction."""
        assert self._producer is not None
        topics = self.settings.topics
        positions = [
            TopicPartition(topic, p, o)
            for topic, by_partition in offsets.items()
            for p, o in sorted(by_partition.items())
        ]
        producer = cast("ProducerLike", self._producer)
        try:
            self._producer.begin_transaction()
            for label in labels:
                value = orjson.dumps(label.to_dict())
                produce_waiting(producer, topics.labels.name, value, label.card_id)
            for key, entry in changes:  # a None entry is a tombstone
                produce_waiting(producer, topics.outcomes_state.name, entry, key)
            self._producer.send_offsets_to_transaction(
                positions, decisions.consumer.consumer_group_metadata(), 30
            )
            self._producer.commit_transaction(30)
        except KafkaException as exc:
            raise StackError(
                f"could not commit the outcomes round (labels, changelog, positions): {exc}. "
                f"If another outcomes service was started on {topics.labels.name!r}, it "
                "fences this one."
            ) from exc

    def _report(self, state: OutcomesState, to_log: bool) -> None:
        self.status.counts = dict(state.counts)
        self.status.clock_ms = state.clock.now
        self.status.truth_through_ms = state.truth_through
        self.status.waiting = state.waiting
        path = status_path(self.settings)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".tmp")
        partial.write_bytes(orjson.dumps(self.status.to_dict()))
        partial.replace(path)
        if to_log:
            log.info("outcomes: %s", describe(self.status.to_dict()))


def _facts(value: bytes | None, partition: int, offset: int) -> DecisionFacts | None:
    try:
        return DecisionFacts.from_record(orjson.loads(value or b""))
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, InvalidInput) as exc:
        log.warning("decision at %d:%d cannot be read (%s): counted bad_decisions", partition,
                    offset, exc)  # fmt: skip
        return None


PROBLEMS = ("no_truth", "bad_decisions", "bad_truth", "truth_unmatched", "late_reviews")
"""Counters of records the service could not use as it should; never silently dropped."""


def describe(status: dict[str, Any]) -> str:
    """One line of a status (:meth:`ServiceStatus.to_dict`), as the demo and the log show it.

    >>> describe({"labels": 3, "waiting": 0, "counts": {"labels_chargeback": 1,
    ...     "labels_investigation": 2, "pending": 5, "decisions_approve": 90, "no_truth": 1}})
    'labels=3 (chargeback 1, investigation 2) pending=5 decisions=90 no_truth=1 waiting=0'
    """
    counts = status.get("counts", {})
    by_source = ", ".join(
        f"{k.removeprefix('labels_')} {v}" for k, v in sorted(counts.items())
        if k.startswith("labels_")
    )  # fmt: skip
    decided = sum(v for k, v in counts.items() if k.startswith("decisions_"))
    problems = " ".join(f"{k}={counts[k]}" for k in PROBLEMS if counts.get(k))
    return (
        f"labels={status.get('labels', 0)}"
        + (f" ({by_source})" if by_source else "")
        + f" pending={counts.get('pending', 0)} decisions={decided}"
        + (f" {problems}" if problems else "")
        + f" waiting={status.get('waiting', 0)}"
    )
