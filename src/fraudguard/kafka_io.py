"""Kafka clients configured the way FraudGuard needs them.

Producers are idempotent so a client retry never duplicates a transaction; readers default to
``read_committed`` so they only see what the exactly-once job committed.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any, Literal

from confluent_kafka import Consumer, KafkaError, Message, Producer, TopicPartition

from fraudguard.config import Settings
from fraudguard.errors import StackError


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
    meta = consumer.list_topics(topic, timeout=10)
    if topic not in meta.topics or meta.topics[topic].error is not None:
        consumer.close()
        raise StackError(f"topic {topic!r} does not exist on {settings.kafka.bootstrap_servers}")
    offsets = start_offsets or {}
    consumer.assign(
        [TopicPartition(topic, p, offsets.get(p, 0)) for p in meta.topics[topic].partitions]
    )
    return consumer


def end_offsets(
    settings: Settings, topic: str, isolation: str = "read_committed"
) -> dict[int, int]:
    """Per-partition end offsets (the last stable offset under ``read_committed``)."""
    consumer = make_consumer(settings, isolation=isolation)  # type: ignore[arg-type]
    try:
        meta = consumer.list_topics(topic, timeout=10)
        if topic not in meta.topics or meta.topics[topic].error is not None:
            raise StackError(
                f"topic {topic!r} does not exist on {settings.kafka.bootstrap_servers}"
            )
        result: dict[int, int] = {}
        for partition in meta.topics[topic].partitions:
            _low, high = consumer.get_watermark_offsets(
                TopicPartition(topic, partition), timeout=10, cached=False
            )
            result[partition] = high
        return result
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
