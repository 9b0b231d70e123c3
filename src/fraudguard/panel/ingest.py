"""The ingester: committed ``decisions`` and ``labels`` into the decision store, exactly once.

It reads ``read_committed`` (only what the exactly-once job and the label writers committed),
without a consumer group: the store's own ``ingest_offsets`` say where to start, and every
batch is written with the offsets after it in one database transaction (see
:mod:`fraudguard.panel.store`). Killed at any point, a restarted ingester neither loses nor
doubles a record.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Consumer, KafkaError, Message, TopicPartition

from fraudguard.config import Settings
from fraudguard.errors import StackError
from fraudguard.panel.store import Batch, DecisionStore, Position
from fraudguard.streams.kafka import make_consumer

log = logging.getLogger(__name__)

PURGE_EVERY_S = 600.0


@dataclass
class IngestReport:
    """What the ingester stored since it started."""

    decisions: int = 0
    labels: int = 0
    rejected: int = 0
    batches: int = 0
    caught_up: bool = False
    """True once a poll found nothing new on every partition."""


class Ingester:
    """Follows the two topics into one :class:`DecisionStore`."""

    def __init__(self, settings: Settings, store: DecisionStore) -> None:
        self.settings = settings
        self.store = store
        self.report = IngestReport()
        self._stop = threading.Event()
        self._decisions = settings.topics.decisions.name
        self._labels = settings.topics.labels.name

    def stop(self) -> None:
        self._stop.set()

    def _consumer(self) -> Consumer:
        overrides: dict[str, Any] = {"enable.partition.eof": False}
        consumer = make_consumer(self.settings, isolation="read_committed", **overrides)
        stored = self.store.offsets()
        assignment = []
        for topic in (self._decisions, self._labels):
            meta = consumer.list_topics(topic, timeout=10)
            if topic not in meta.topics or meta.topics[topic].error is not None:
                consumer.close()
                raise StackError(f"topic {topic!r} does not exist (`fraudguard stack up`)")
            for partition in meta.topics[topic].partitions:
                assignment.append(
                    TopicPartition(topic, partition, stored.get((topic, partition), 0))
                )
        consumer.assign(assignment)
        return consumer

    def run(self, max_idle_s: float | None = None) -> IngestReport:
        """Ingest until :meth:`stop` (or, with ``max_idle_s``, until nothing arrived for that
        long)."""
        consumer = self._consumer()
        batch_size = self.settings.panel.ingest_batch
        retention_ms = self.settings.panel.retention_days * 86_400_000
        last_purge = 0.0
        idle_since = time.monotonic()
        try:
            while not self._stop.is_set():
                messages = consumer.consume(num_messages=batch_size, timeout=0.5)
                batch = Batch()
                for message in messages:
                    error = message.error()
                    if error is not None:
                        if error.code() == KafkaError._PARTITION_EOF:
                            continue
                        raise StackError(f"reading {message.topic()}: {error}")
                    position = _position(message)
                    (batch.decisions if position.topic == self._decisions else batch.labels).append(
                        position
                    )
                    batch.next_offsets[(position.topic, position.partition)] = position.offset + 1
                if batch.next_offsets:
                    written = self.store.write(batch)
                    self.report.decisions += written.stored_decisions
                    self.report.labels += written.stored_labels
                    self.report.rejected += written.rejected
                    self.report.batches += 1
                    self.report.caught_up = False
                    idle_since = time.monotonic()
                else:
                    self.report.caught_up = True
                    if max_idle_s is not None and time.monotonic() - idle_since >= max_idle_s:
                        break
                if time.monotonic() - last_purge >= PURGE_EVERY_S:
                    purged = self.store.purge(int(time.time() * 1000) - retention_ms)
                    if purged:
                        log.info("purged %d decisions older than the retention", purged)
                    last_purge = time.monotonic()
        finally:
            consumer.close()
        return self.report


def _position(message: Message) -> Position:
    topic, partition, offset = message.topic(), message.partition(), message.offset()
    if topic is None or partition is None or offset is None:  # only error events lack them
        raise StackError(f"a Kafka record without its position: {message.error()}")
    return Position(topic, partition, offset, message.value())
