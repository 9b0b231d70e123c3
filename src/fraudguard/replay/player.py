"""History played into a namespace's topics in event-time order, each label released when it
was reported, on the replay's clock: the first event's time plus the wall time since the
start, times the speed (or as fast as Kafka takes it).

>>> clock = ReplayClock(speed=60.0, first_event_ms=1_000_000, started=100.0)
>>> clock.wall_wait(1_060_000, now=100.5)  # a minute of history is a second of wall time
0.5
>>> ReplayClock(speed=None, first_event_ms=0, started=0.0).wall_wait(10**12, now=0.0)
0.0
>>> parse_speed("60x"), parse_speed("max"), parse_speed("0.5x")
(60.0, None, 0.5)
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import orjson

from fraudguard.config import Settings
from fraudguard.errors import ConfigError, StackError
from fraudguard.generator.sinks import read_records
from fraudguard.wire.labels import label_entities
from fraudguard.wire.transactions import parse_event_time


def parse_speed(text: str) -> float | None:
    """``max`` (None: no waiting) or a factor such as ``60x`` (a minute of history a second)."""
    if text == "max":
        return None
    try:
        value = float(text.removesuffix("x"))
    except ValueError:
        value = 0.0
    if not text.endswith("x") or not 0 < value <= 1e9:
        raise ConfigError(f"--speed {text!r}: give `max` or a factor such as `60x`")
    return value


@dataclass(frozen=True)
class ReplayClock:
    speed: float | None
    first_event_ms: int
    started: float
    """Wall time (``time.monotonic``) the replay began."""

    def wall_wait(self, event_ms: int, now: float) -> float:
        """Seconds to wait before an event at ``event_ms`` is due."""
        if self.speed is None:
            return 0.0
        due = self.started + (event_ms - self.first_event_ms) / 1000 / self.speed
        return max(0.0, due - now)


def sorted_transactions(path: Path) -> tuple[Iterator[tuple[int, bytes, str]], int, bool]:
    """The transactions of a JSONL file as ``(event ms, line, card id)`` in event-time order,
    their count, and whether the file had to be sorted (then it is held in memory)."""
    count, ordered, last = 0, True, -(2**63)
    with path.open("rb") as lines:
        for line in lines:
            if line.strip():
                count += 1
                ts = parse_event_time(orjson.loads(line)["event_time"])
                ordered = ordered and ts >= last
                last = max(last, ts)

    def read() -> Iterator[tuple[int, bytes, str]]:
        with path.open("rb") as lines:
            for line in lines:
                if line.strip():
                    doc = orjson.loads(line)
                    yield parse_event_time(doc["event_time"]), line.rstrip(b"\n"), doc["card_id"]

    if ordered:
        return read(), count, False
    held = sorted(read(), key=lambda row: row[0])  # stable: equal times keep the file's order
    return iter(held), count, True


def labels_by_report_time(
    path: Path | None, transactions: Path | None = None
) -> list[tuple[int, bytes, str]]:
    """Labels as ``(reported ms, JSON, card id)``, earliest report first. A label that does not
    name its card, merchant and terminal (a file converted before labels named them) gets them
    from its payment in ``transactions``, so that it feeds the label-fed risk features."""
    if path is None:
        return []
    records = list(read_records(path))
    if transactions is not None:
        name_entities(records, transactions)
    rows = [(parse_event_time(r["reported_at"]), orjson.dumps(r), str(r.get("card_id") or ""))
            for r in records]  # fmt: skip
    rows.sort(key=lambda row: row[0])
    return rows


def name_entities(labels: list[dict[str, Any]], transactions: Path) -> int:
    """Fill in ``card_id``, ``merchant_id`` and ``terminal_id`` of the labels that lack one,
    from their payments in the ``transactions`` file; how many were filled in.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "t.jsonl").write_text(
    ...     '{"txn_id": "t1", "card_id": "c1", "merchant_id": "m1", "terminal_id": "m1-t1"}\\n')
    >>> labels = [{"txn_id": "t1", "label": "fraud"}, {"txn_id": "t9", "label": "fraud"}]
    >>> name_entities(labels, folder / "t.jsonl"), labels[0]["terminal_id"], labels[1]
    (1, 'm1-t1', {'txn_id': 't9', 'label': 'fraud'})
    """
    # A payment may have several labels (a verdict, then a correction): each is named.
    lacking: dict[str, list[dict[str, Any]]] = {}
    for label in labels:
        if label_entities(label) is None and "txn_id" in label:
            lacking.setdefault(label["txn_id"], []).append(label)
    filled = 0
    if not lacking:
        return filled
    with transactions.open("rb") as lines:
        for line in lines:
            if not line.strip():
                continue
            doc = orjson.loads(line)
            for label in lacking.pop(doc.get("txn_id"), []):
                for field in ("card_id", "merchant_id", "terminal_id"):
                    if not label.get(field) and doc.get(field):
                        label[field] = doc[field]
                filled += label_entities(label) is not None
            if not lacking:
                break
    return filled


def replay_order(
    rows: Iterator[tuple[int, bytes, str]],
    labels: list[tuple[int, bytes, str]],
    progress: Progress,
) -> Iterator[tuple[str, int, bytes, str]]:
    """Transactions (in event-time order) and labels (by report time) merged on the replay's
    clock: a label goes just before the first transaction at or after its report time. Labels
    reported after the last transaction are not given (the replay ends first); their count goes
    to ``progress.labels_after_end``.

    >>> rows = iter([(10, b"t1", "c"), (20, b"t2", "c"), (30, b"t3", "c")])
    >>> labels = [(15, b"l1", "c"), (30, b"l2", "c"), (99, b"l3", "c")]
    >>> p = Progress()
    >>> [(kind, ts) for kind, ts, _, _ in replay_order(rows, labels, p)], p.labels_after_end
    ([('txn', 10), ('label', 15), ('txn', 20), ('label', 30), ('txn', 30)], 1)
    """
    pending = list(labels)
    heapq.heapify(pending)
    for ts, line, card in rows:
        while pending and pending[0][0] <= ts:
            at, value, key = heapq.heappop(pending)
            yield "label", at, value, key
        yield "txn", ts, line, card
    progress.labels_after_end = len(pending)


@dataclass
class Progress:
    transactions: int = 0
    labels: int = 0
    total: int = 0
    event_ms: int | None = None
    elapsed_s: float = 0.0
    failed: int = 0
    labels_after_end: int = 0

    @property
    def rate(self) -> float:
        return self.transactions / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def describe(self) -> str:
        from datetime import UTC, datetime

        at = "-"
        if self.event_ms is not None:
            at = datetime.fromtimestamp(self.event_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M")
        left = self.total - self.transactions
        eta = f"{left / self.rate:,.0f} s" if self.rate > 0 else "-"
        share = self.transactions / self.total if self.total else 1.0
        return (
            f"[{'#' * int(share * 30):<30}] {self.transactions:,}/{self.total:,} "
            f"event time {at}, {self.rate:,.0f} tx/s, ETA {eta}, {self.labels:,} labels"
        )


def play(
    settings: Settings,
    transactions: Path,
    labels: Path | None,
    speed: float | None,
    on_progress: Callable[[Progress], None] | None = None,
    progress_every_s: float = 1.0,
) -> Progress:
    """Produce ``transactions`` to ``settings``' transactions topic in event-time order (record
    timestamp = event time, key = card id) and each label to the labels topic once the replay's
    clock passes its report time. ``settings`` must be a namespace's
    (:func:`~fraudguard.replay.namespace.namespaced`)."""
    from fraudguard.streams.kafka import ProducerLike, make_producer, produce_waiting

    if settings.validation.clock != "event":
        raise ConfigError("a replay plays into a namespace (its job runs on the event clock)")
    rows, total, _ = sorted_transactions(transactions)
    pending = labels_by_report_time(labels, transactions)
    producer = cast(ProducerLike, make_producer(settings, **{"linger.ms": 20}))
    txn_topic, label_topic = settings.topics.transactions.name, settings.topics.labels.name
    progress = Progress(total=total)
    clock: ReplayClock | None = None
    last_report = started = time.monotonic()

    def delivered(err: object, _msg: object) -> None:
        if err is not None:
            progress.failed += 1

    def send(topic: str, value: bytes, key: str, ts: int) -> None:
        produce_waiting(producer, topic, value, key, delivered, ts)

    for kind, ts, value, key in replay_order(rows, pending, progress):
        if clock is None:  # the first record is a transaction: labels come after one
            clock = ReplayClock(speed, ts, time.monotonic())
        wait = clock.wall_wait(ts, time.monotonic())  # a label waits for its report time too
        if wait > 0:
            producer.poll(0)
            time.sleep(wait)
        if kind == "label":
            send(label_topic, value, key, ts)
            progress.labels += 1
            continue
        send(txn_topic, value, key, ts)
        progress.transactions += 1
        progress.event_ms = ts
        if progress.transactions % 10_000 == 0:
            producer.poll(0)
            now = time.monotonic()
            if on_progress is not None and now - last_report >= progress_every_s:
                progress.elapsed_s, last_report = now - started, now
                on_progress(progress)
    left = producer.flush(60)
    progress.elapsed_s = time.monotonic() - started
    if left or progress.failed:
        raise StackError(f"{left + progress.failed:,} records were not delivered to Kafka")
    if on_progress is not None:
        on_progress(progress)
    return progress
