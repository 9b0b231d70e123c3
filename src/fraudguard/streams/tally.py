"""Count what reached the ``decisions`` topic: per decision, lost and duplicated transactions.

This is how the demo, the tests and the benchmark check "exactly one decision per
transaction": against the topic itself, read ``read_committed`` by default.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from typing import Any, Literal

import orjson
from confluent_kafka import KafkaError

from fraudguard.config import Settings
from fraudguard.errors import StackError
from fraudguard.streams.kafka import assigned_consumer, end_offsets

DEGRADED = b'"degraded":true'
"""How a decision scored by the rules (no model) reads in the record's JSON, as orjson writes it."""


class DecisionTally:
    """Follows the decisions topic from given offsets and counts the decisions of interest.

    ``expected`` are the transaction ids this run sent; decisions for other ids (earlier runs
    sharing the topic) are counted apart as ``foreign`` and never mistaken for duplicates.
    ``id_prefix`` does the same for a run whose ids share a prefix, without holding them all.

    ``by_key`` takes the transaction id from the Kafka key and parses no record: a parse costs
    some 6 µs a decision, which a reader sharing the cores with the job (the benchmark) takes
    from the job. ``by_decision``, ``explored`` and ``unkeyed`` then stay 0 and ``degraded`` is
    found in the record's text. ``timed`` keeps, in ``first_seen``, the monotonic time each
    transaction's first decision was read. ``consumer_overrides`` go to the Kafka consumer.
    """

    def __init__(
        self,
        settings: Settings,
        expected: Iterable[str] | None = None,
        start_offsets: dict[int, int] | None = None,
        isolation: Literal["read_committed", "read_uncommitted"] = "read_committed",
        topic: str | None = None,
        id_prefix: str | None = None,
        by_key: bool = False,
        timed: bool = False,
        **consumer_overrides: Any,
    ) -> None:
        self.topic = topic or settings.topics.decisions.name
        self.expected: set[str] | None = set(expected) if expected is not None else None
        self.id_prefix = id_prefix
        self.by_decision: Counter[str] = Counter()
        self.seen: Counter[str] = Counter()
        self.records = 0
        self.foreign = 0
        self.degraded = 0
        self.explored = 0
        self.late = 0
        """Decisions of payments older than what their card, merchant or device step had seen."""
        self.unkeyed = 0
        """Decisions whose Kafka key is not their ``txn_id``."""
        self.by_key = by_key
        self.first_seen: dict[str, float] | None = {} if timed else None
        config: dict[str, Any] = {"enable.partition.eof": False, **consumer_overrides}
        self._consumer = assigned_consumer(settings, self.topic, isolation, start_offsets, **config)

    @classmethod
    def from_now(
        cls,
        settings: Settings,
        id_prefix: str | None = None,
        isolation: Literal["read_committed", "read_uncommitted"] = "read_committed",
    ) -> DecisionTally:
        """A tally that ignores everything already on the topic."""
        start = end_offsets(settings, settings.topics.decisions.name, isolation)
        return cls(settings, None, start, isolation, id_prefix=id_prefix)

    def add_expected(self, txn_ids: Iterable[str]) -> None:
        if self.expected is None:
            self.expected = set()
        self.expected.update(txn_ids)

    def poll(self, timeout_s: float = 0.5, max_messages: int = 50_000) -> int:
        """Read what is available (up to ``max_messages``); returns how many records came."""
        batch = self._consumer.consume(num_messages=max_messages, timeout=timeout_s)
        read_at = time.monotonic()
        for msg in batch:
            err = msg.error()
            if err is not None:
                if err.code() == KafkaError._PARTITION_EOF:
                    continue
                raise StackError(f"reading {self.topic}: {err}")
            key, value = msg.key(), msg.value() or b"{}"
            record: dict[str, Any] | None = None
            if self.by_key and key:
                txn_id = key.decode()
            else:
                record = orjson.loads(value)
                txn_id = record["txn_id"]
            if (self.expected is not None and txn_id not in self.expected) or (
                self.id_prefix is not None and not txn_id.startswith(self.id_prefix)
            ):
                self.foreign += 1
                continue
            self.records += 1
            if self.first_seen is not None and txn_id not in self.seen:
                self.first_seen[txn_id] = read_at
            self.seen[txn_id] += 1
            if record is None:
                self.degraded += DEGRADED in value
                continue
            self.by_decision[record["decision"]] += 1
            self.degraded += bool(record.get("degraded"))
            self.explored += bool(record.get("explored"))
            self.late += bool(record.get("late"))
            self.unkeyed += key != txn_id.encode()
        return len(batch)

    @property
    def decided(self) -> int:
        """Distinct transactions with at least one decision."""
        return len(self.seen)

    @property
    def duplicates(self) -> int:
        """Decisions beyond the first for the same transaction."""
        return self.records - len(self.seen)

    def missing(self) -> int:
        return len(self.expected) - self.decided if self.expected is not None else 0

    def close(self) -> None:
        self._consumer.close()
