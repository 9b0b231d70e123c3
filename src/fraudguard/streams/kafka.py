"""Kafka clients configured the way FraudGuard needs them.

Producers are idempotent so a client retry never duplicates a transaction; readers default to
``read_committed`` so they only see what the exactly-once job committed.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from typing import Any, Literal, Protocol

from confluent_kafka import (
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    Producer,
    TopicPartition,
)

from fraudguard.config import Settings
from fraudguard.errors import StackError

log = logging.getLogger(__name__)


class ProducerLike(Protocol):
    """What sending needs of a producer (a real one, or a test's stand-in)."""

    def produce(
        self,
        topic: str,
        value: bytes | None,
        key: str,
        on_delivery: Any = None,
        timestamp: int = 0,
    ) -> None: ...

    def poll(self, timeout: float = ...) -> int: ...

    def flush(self, timeout: float = ...) -> int: ...


def produce_waiting(
    producer: ProducerLike,
    topic: str,
    value: bytes | None,
    key: str,
    on_delivery: Any = None,
    timestamp_ms: int = 0,
) -> None:
    """Produce one record (a ``None`` value is a tombstone), waiting for the client to drain
    its local queue when it is full (``BufferError``) instead of dropping the record."""
    while True:
        try:
            producer.produce(
                topic, value=value, key=key, on_delivery=on_delivery, timestamp=timestamp_ms
            )
            return
        except BufferError:  # local queue full: let the client drain it
            producer.poll(0.05)


def make_producer(settings: Settings, **overrides: Any) -> Producer:
    """An idempotent producer tuned for throughput (batches of up to 5 ms)."""
    config: dict[str, Any] = {
        "bootstrap.servers": settings.kafka.bootstrap_servers,
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 5,
        "batch.size": 256 * 1024,
        "compression.type": "lz4",
        "queue.buffering.max.messages": 500_000,
    }
    config.update(overrides)
    return Producer(config)


def transactional_producer(settings: Settings, transactional_id: str, who: str) -> Producer:
    """A producer with Kafka transactions under ``transactional_id``, initialised: a second
    process with the same id fences the first, and an open transaction a dead one left is
    aborted. ``who`` names the process in the error."""
    producer = make_producer(settings, **{"transactional.id": transactional_id})
    try:
        producer.init_transactions(30)
    except KafkaException as exc:
        raise StackError(f"could not start the {who}'s Kafka transactions: {exc}") from exc
    return producer


def abort_quietly(producer: Producer | None) -> None:
    """Abort the open transaction of ``producer``, if there is one and the broker answers."""
    try:
        if producer is not None:
            producer.abort_transaction(10)
    except KafkaException as exc:  # none open, or the broker is gone: nothing to undo
        log.debug("no transaction to abort: %s", exc)


def make_consumer(
    settings: Settings,
    group_id: str | None = None,
    isolation: Literal["read_committed", "read_uncommitted"] = "read_committed",
    **overrides: Any,
) -> Consumer:
    """A consumer that starts from the earliest offset; a throwaway group unless one is named."""
    config: dict[str, Any] = {
        "bootstrap.servers": settings.kafka.bootstrap_servers,
        "group.id": group_id or f"fraudguard-reader-{uuid.uuid4().hex[:12]}",
        "auto.offset.reset": "earliest",
        "enable.auto.commit": group_id is not None,
        "isolation.level": isolation,
        "enable.partition.eof": True,
    }
    config.update(overrides)
    return Consumer(config)


def assigned_consumer(
    settings: Settings,
    topic: str,
    isolation: Literal["read_committed", "read_uncommitted"] = "read_committed",
    start_offsets: dict[int, int] | None = None,
    **overrides: Any,
) -> Consumer:
    """A consumer assigned every partition of ``topic``, from ``start_offsets`` (default: the
    beginning); no group membership, so readers never rebalance each other."""
    consumer = make_consumer(settings, isolation=isolation, **overrides)
    try:
        partitions = _partitions(settings, consumer, topic)
    except StackError:
        consumer.close()
        raise
    offsets = start_offsets or {}
    consumer.assign([TopicPartition(topic, p, offsets.get(p, 0)) for p in partitions])
    return consumer


def _partitions(settings: Settings, consumer: Consumer, topic: str) -> list[int]:
    meta = consumer.list_topics(topic, timeout=10)
    if topic not in meta.topics or meta.topics[topic].error is not None:
        raise StackError(
            f"topic {topic!r} does not exist on {settings.kafka.bootstrap_servers} "
            "(`fraudguard stack up` creates the project's topics)"
        )
    return list(meta.topics[topic].partitions)


def end_offsets(
    settings: Settings, topic: str, isolation: str = "read_committed"
) -> dict[int, int]:
    """Per-partition end offsets (the last stable offset under ``read_committed``)."""
    consumer = make_consumer(settings, isolation=isolation)  # type: ignore[arg-type]
    try:
        result: dict[int, int] = {}
        for partition in _partitions(settings, consumer, topic):
            _low, high = consumer.get_watermark_offsets(
                TopicPartition(topic, partition), timeout=10, cached=False
            )
            result[partition] = high
        return result
    finally:
        consumer.close()


def offsets_at(settings: Settings, topic: str, at_ms: int) -> dict[int, int]:
    """Per partition, the first offset whose record timestamp is ``at_ms`` or later (the end
    offset when there is none): where a reader of the records since ``at_ms`` starts."""
    consumer = make_consumer(settings)
    try:
        asked = [TopicPartition(topic, p, at_ms) for p in _partitions(settings, consumer, topic)]
        found = consumer.offsets_for_times(asked, timeout=10)
        result: dict[int, int] = {}
        for tp in found:
            if tp.offset < 0:
                _low, tp.offset = consumer.get_watermark_offsets(tp, timeout=10, cached=False)
            result[tp.partition] = tp.offset
        return result
    finally:
        consumer.close()


def committed_offsets(settings: Settings, topic: str, group: str) -> dict[int, int]:
    """The offsets ``group`` committed on ``topic`` (partitions without a commit left out)."""
    manual: dict[str, Any] = {"enable.auto.commit": False}
    consumer = make_consumer(settings, group_id=group, **manual)
    try:
        asked = [TopicPartition(topic, p) for p in _partitions(settings, consumer, topic)]
        return {tp.partition: tp.offset for tp in consumer.committed(asked, timeout=10)
                if tp.offset >= 0}  # fmt: skip
    finally:
        consumer.close()


def read_topic(
    settings: Settings,
    topic: str,
    isolation: Literal["read_committed", "read_uncommitted"] = "read_committed",
    idle_timeout_s: float = 5.0,
    max_messages: int | None = None,
) -> Iterator[Message]:
    """Every message of ``topic`` from the beginning, until ``max_messages`` are read or no new
    message arrives for ``idle_timeout_s`` after each partition reached its end."""
    consumer = assigned_consumer(settings, topic, isolation)
    try:
        partitions = list(consumer.assignment())
        at_end: set[int] = set()
        seen = 0
        last_progress = time.monotonic()
        while True:
            batch = consumer.consume(num_messages=10_000, timeout=0.5)
            for msg in batch:
                err = msg.error()
                if err is not None:
                    if err.code() == KafkaError._PARTITION_EOF:
                        at_end.add(msg.partition() or 0)
                        continue
                    raise StackError(f"reading {topic}: {err}")
                at_end.discard(msg.partition())
                last_progress = time.monotonic()
                seen += 1
                yield msg
                if max_messages is not None and seen >= max_messages:
                    return
            if (
                len(at_end) == len(partitions)
                and time.monotonic() - last_progress >= idle_timeout_s
            ):
                return
            if not batch and time.monotonic() - last_progress >= max(idle_timeout_s, 30.0):
                return
    finally:
        consumer.close()


class TopicTail:
    """A consumer on every partition of a topic that knows when it has read all there is.

    librdkafka reports the end of a partition once each time it is reached; the tail
    remembers it until a new message arrives, so asking again is cheap and exact.
    """

    def __init__(self, consumer: Consumer, timeout_s: float = 60.0) -> None:
        self.consumer = consumer
        self.timeout_s = timeout_s
        self.partitions = {tp.partition for tp in consumer.assignment()}
        self._at_end: set[int] = set()

    @property
    def at_end(self) -> bool:
        return self._at_end == self.partitions

    @property
    def ended(self) -> frozenset[int]:
        """The partitions read to their end (until a new message arrives on them)."""
        return frozenset(self._at_end)

    def poll(
        self, max_messages: int, timeout_s: float = 0.2
    ) -> list[tuple[int, int, bytes | None]]:
        """``(partition, offset, value)`` of up to ``max_messages`` messages (short wait)."""
        out = []
        for msg in self.consumer.consume(num_messages=max_messages, timeout=timeout_s):
            err, partition = msg.error(), msg.partition() or 0
            if err is not None:
                if err.code() == KafkaError._PARTITION_EOF:
                    self._at_end.add(partition)
                    continue
                raise StackError(f"reading {msg.topic()}: {err}")
            self._at_end.discard(partition)
            out.append((partition, msg.offset() or 0, msg.value()))
        return out

    def drain(self) -> list[tuple[int, int, bytes | None]]:
        """``(partition, offset, value)`` of every message from here to each partition's end."""
        messages: list[tuple[int, int, bytes | None]] = []
        deadline = time.monotonic() + self.timeout_s
        while not self.at_end:
            if time.monotonic() > deadline:
                raise StackError(f"no end of {sorted(self.partitions)} in {self.timeout_s} s")
            messages.extend(self.poll(10_000))
        # The end seen, read what arrived meanwhile without waiting for it.
        messages.extend(self.poll(10_000))
        return messages

    def close(self) -> None:
        self.consumer.close()
