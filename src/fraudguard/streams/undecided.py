"""Payments on ``transactions`` that have neither a committed decision nor a dead letter yet.

Before a job is started without state, every payment it has read must be answered: a fresh
job resumes from its consumer group's committed offsets, and a payment read but still waiting
in the old job's state (for the event clock, or in a batch) would never be decided. Flink
commits those offsets when a checkpoint completes, and the decisions of that checkpoint
with them, so an old job is done with ``transactions`` when both hold: no payment is
undecided, and the group's offsets are at the topic's end.

Payments are told apart by ``txn_id``; a message whose id cannot be read (not JSON, or no id)
is answered by a dead letter whose original has no readable id either, counted as such.

>>> undecided_ids({"a", "b", "c"}, decided={"a"}, dead={"c"})
['b']
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import orjson

from fraudguard.config import Settings
from fraudguard.streams.kafka import (
    TopicTail,
    assigned_consumer,
    committed_offsets,
    end_offsets,
)


def undecided_ids(payments: Iterable[str], decided: set[str], dead: set[str]) -> list[str]:
    """The payments with neither a decision nor a dead letter, sorted."""
    return sorted(txn_id for txn_id in payments if txn_id not in decided and txn_id not in dead)


def _txn_id(value: bytes | None) -> str | None:
    """A record's ``txn_id``, or None when it has none that reads.

    >>> _txn_id(b'{"txn_id": "t1", "amount": 3}'), _txn_id(b"{oops"), _txn_id(None)
    ('t1', None, None)
    """
    if not value:
        return None
    try:
        record = orjson.loads(value)
    except orjson.JSONDecodeError:
        return None
    txn_id = record.get("txn_id") if isinstance(record, dict) else None
    return txn_id if isinstance(txn_id, str) else None


def _original_id(value: bytes | None) -> str | None:
    """The ``txn_id`` of a dead letter's original message (sent as UTF-8 text), if it reads."""
    try:
        record = orjson.loads(value or b"{}")
    except orjson.JSONDecodeError:
        return None
    original = record.get("original") if isinstance(record, dict) else None
    if not isinstance(original, str) or record.get("original_encoding") != "utf-8":
        return None
    return _txn_id(original.encode())


@dataclass
class AnswerBook:
    """Which payments were read, and which have a decision or a dead letter.

    >>> def letter(original: str) -> bytes:
    ...     return orjson.dumps({"reason": "r", "original": original, "original_encoding": "utf-8"})
    >>> book = AnswerBook()
    >>> for value in (b'{"txn_id": "a"}', b'{"txn_id": "b"}', b"{oops", b'{"txn_id": "c"}'):
    ...     book.payment(value)
    >>> book.decision(b'{"txn_id": "a", "decision": "approve"}')
    >>> book.dead_letter(letter("{oops"))
    >>> book.count(), book.undecided()
    (2, ['b', 'c'])
    >>> book.dead_letter(letter('{"txn_id": "c"}'))
    >>> book.count(), book.undecided()
    (1, ['b'])
    """

    payments: set[str] = field(default_factory=set)
    decided: set[str] = field(default_factory=set)
    dead: set[str] = field(default_factory=set)
    payments_without_id: int = 0
    dead_without_id: int = 0

    def payment(self, value: bytes | None) -> None:
        txn_id = _txn_id(value)
        if txn_id is None:
            self.payments_without_id += 1
        else:
            self.payments.add(txn_id)

    def decision(self, value: bytes | None) -> None:
        txn_id = _txn_id(value)
        if txn_id is not None:
            self.decided.add(txn_id)

    def dead_letter(self, value: bytes | None) -> None:
        txn_id = _original_id(value)
        if txn_id is None:
            self.dead_without_id += 1
        else:
            self.dead.add(txn_id)

    def undecided(self) -> list[str]:
        """The payments with an id and neither a decision nor a dead letter, sorted."""
        return undecided_ids(self.payments, self.decided, self.dead)

    def count(self) -> int:
        """Payments read with no answer (those without an id counted against dead letters
        without one)."""
        return len(self.undecided()) + max(0, self.payments_without_id - self.dead_without_id)


class UndecidedPayments:
    """Reads ``transactions``, ``decisions`` and the dead-letter topic (read_committed) from
    their beginnings into an :class:`AnswerBook`, and each :meth:`poll` on from where it
    stopped."""

    def __init__(self, settings: Settings, timeout_s: float = 600.0) -> None:
        topics = settings.topics
        self.book = AnswerBook()
        self._tails: list[tuple[TopicTail, Callable[[bytes | None], None]]] = [
            (TopicTail(assigned_consumer(settings, name), timeout_s), handle)
            for name, handle in (
                (topics.transactions.name, self.book.payment),
                (topics.decisions.name, self.book.decision),
                (topics.dlq.name, self.book.dead_letter),
            )
        ]

    def poll(self) -> None:
        """Read each topic to its end (the first time from its beginning: at most
        ``timeout_s`` each)."""
        for tail, handle in self._tails:
            for _, _, value in tail.drain():
                handle(value)

    def count(self) -> int:
        """Payments read so far with no committed answer."""
        return self.book.count()

    def close(self) -> None:
        for tail, _ in self._tails:
            tail.close()


def wait_until_answered(settings: Settings, group: str, timeout_s: float) -> int:
    """Block until every payment on ``transactions`` has a committed decision or dead letter
    and ``group`` (the job's consumer group) committed offsets at the topic's end; 0 then,
    else the payments still undecided after ``timeout_s`` (-1 when only the group's offsets
    lag)."""
    topic = settings.topics.transactions.name
    deadline = time.monotonic() + timeout_s
    undecided = UndecidedPayments(settings)
    try:
        while True:
            ends = end_offsets(settings, topic)
            undecided.poll()
            left = undecided.count()
            committed = committed_offsets(settings, topic, group)
            if left == 0 and all(committed.get(p, 0) >= end for p, end in ends.items()):
                return 0
            if time.monotonic() >= deadline:
                return left or -1
            time.sleep(0.5)
    finally:
        undecided.close()
