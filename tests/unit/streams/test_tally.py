"""DecisionTally's counting on records from a stand-in consumer; no broker."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from fraudguard.config import Settings
from fraudguard.streams import tally as tally_module
from fraudguard.streams.tally import DecisionTally


class Message:
    def __init__(self, key: bytes | None, value: bytes) -> None:
        self._key, self._value = key, value

    def error(self) -> None:
        return None

    def key(self) -> bytes | None:
        return self._key

    def value(self) -> bytes:
        return self._value


class Consumer:
    """Hands out the queued batches, one per ``consume``."""

    def __init__(self) -> None:
        self.batches: list[list[Message]] = []
        self.config: dict[str, Any] = {}

    def consume(self, num_messages: int, timeout: float) -> list[Message]:
        return self.batches.pop(0) if self.batches else []

    def close(self) -> None:
        pass


def decision(txn_id: str, degraded: bool = False, key: str | None = None) -> Message:
    record = {"txn_id": txn_id, "decision": "approve", "degraded": degraded, "explored": False}
    return Message((key or txn_id).encode(), orjson.dumps(record))


@pytest.fixture
def consumer(monkeypatch: pytest.MonkeyPatch) -> Consumer:
    fake = Consumer()

    def assigned(settings: Settings, topic: str, isolation: str, start: Any, **config: Any) -> Any:
        fake.config = config
        return fake

    monkeypatch.setattr(tally_module, "assigned_consumer", assigned)
    return fake


def test_counts_decided_duplicates_foreign_and_degraded(consumer: Consumer) -> None:
    consumer.batches = [
        [decision("t1"), decision("t2", degraded=True), decision("t1"), decision("other")],
        [decision("t3", key="wrong")],
    ]
    tally = DecisionTally(Settings(), expected=["t1", "t2", "t3"])
    tally.poll()
    tally.poll()
    assert (tally.decided, tally.duplicates, tally.foreign) == (3, 1, 1)
    assert (tally.degraded, tally.unkeyed, tally.missing()) == (1, 1, 0)
    assert tally.by_decision == {"approve": 4}
    assert tally.first_seen is None


def test_by_key_counts_the_same_transactions_without_parsing(consumer: Consumer) -> None:
    consumer.batches = [
        [decision("t1"), decision("t2", degraded=True), decision("t1"), decision("other")],
        [Message(b"t3", b"not json, never parsed")],
    ]
    tally = DecisionTally(Settings(), expected=["t1", "t2", "t3"], by_key=True)
    tally.poll()
    tally.poll()
    assert (tally.decided, tally.duplicates, tally.foreign, tally.degraded) == (3, 1, 1, 1)
    assert (tally.by_decision, tally.explored, tally.unkeyed) == ({}, 0, 0)


def test_by_key_parses_a_record_without_a_key(consumer: Consumer) -> None:
    consumer.batches = [[Message(None, orjson.dumps({"txn_id": "t1", "decision": "block"}))]]
    tally = DecisionTally(Settings(), by_key=True)
    tally.poll()
    assert (tally.decided, tally.by_decision) == (1, {"block": 1})


def test_timed_keeps_when_each_first_decision_was_read(
    consumer: Consumer, monkeypatch: pytest.MonkeyPatch
) -> None:
    consumer.batches = [[decision("t1")], [decision("t1"), decision("t2")]]
    clock = iter([10.0, 20.0])
    monkeypatch.setattr(tally_module.time, "monotonic", lambda: next(clock))
    tally = DecisionTally(Settings(), timed=True)
    tally.poll()
    tally.poll()
    assert tally.first_seen == {"t1": 10.0, "t2": 20.0}
    assert tally.duplicates == 1


def test_consumer_overrides_reach_the_consumer(consumer: Consumer) -> None:
    DecisionTally(Settings(), **{"fetch.wait.max.ms": 100})
    assert consumer.config == {"enable.partition.eof": False, "fetch.wait.max.ms": 100}
