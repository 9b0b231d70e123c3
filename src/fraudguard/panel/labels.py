"""Verdicts as labels on the ``labels`` topic, exactly once.

A verdict writes its label to ``label_outbox`` in the same database transaction as the case:
clicked twice, or the panel killed after the click, there is still one label. The publisher then
sends pending labels in Kafka transactions (one transactional id per panel database, so a second
publisher fences the first) and records where each landed. If it dies between Kafka's commit and
that record, it finds its labels on the topic when it starts again (by ``label_id``, reading
``read_committed`` from the last recorded offset) instead of sending them twice.

The record is the label format the generator and the re-ranker learner use (``txn_id``,
``card_id``, ``merchant_id``, ``terminal_id``, ``label``, ``event_time``, ``reported_at``,
``source``), plus provenance:
``label_id``, ``analyst``, ``guideline_version``, ``case_id``, ``priority``, and for a
correction ``supersedes`` (the label it replaces) and ``reason``.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from typing import Any

import orjson
from confluent_kafka import KafkaException, TopicPartition
from sqlalchemy import Connection, Engine, func, insert, select, update

from fraudguard.config import PanelSettings, Settings
from fraudguard.errors import StackError
from fraudguard.panel import tables as t
from fraudguard.streams.kafka import make_consumer, make_producer
from fraudguard.wire.transactions import format_event_time

log = logging.getLogger(__name__)
SOURCE = "review"


def queue_label(
    conn: Connection,
    settings: PanelSettings,
    case: dict[str, Any],
    verdict: str,
    analyst: str,
    priority: float,
    supersedes: str | None = None,
    reason: str | None = None,
) -> str:
    """Write the label of a verdict to the outbox (the caller's transaction); its id."""
    now = int(time.time() * 1000)
    label_id = f"rv-{case['id']}-{uuid.uuid4().hex[:12]}"
    merchant_id, terminal_id = _entities(conn, case)
    doc: dict[str, Any] = {
        "txn_id": case["txn_id"],
        "card_id": case["card_id"],
        "merchant_id": merchant_id,
        "terminal_id": terminal_id,
        "label": verdict,
        "event_time": format_event_time(case["event_ms"]),
        "reported_at": format_event_time(now),
        "source": SOURCE,
        "label_id": label_id,
        "analyst": analyst,
        "guideline_version": settings.guideline_version,
        "case_id": case["id"],
        "priority": round(priority, 6),
    }
    if supersedes:
        doc["supersedes"] = supersedes
    if reason:
        doc["reason"] = reason
    conn.execute(
        insert(t.label_outbox).values(
            label_id=label_id,
            txn_id=case["txn_id"],
            record=orjson.dumps(doc).decode(),
            created_at_ms=now,
        )
    )
    return label_id


def _entities(conn: Connection, case: dict[str, Any]) -> tuple[str, str]:
    """The payment's merchant and terminal ids: the case's, else its decision's (a case opened
    before cases kept them); empty when neither knows."""
    merchant_id, terminal_id = case.get("merchant_id"), case.get("terminal_id")
    if merchant_id is None or terminal_id is None:
        d = t.decisions.c
        row = conn.execute(
            select(d.merchant_id, d.terminal_id).where(d.txn_id == case["txn_id"])
        ).first()
        if row is not None:  # retention may have deleted it
            merchant_id, terminal_id = merchant_id or row[0], terminal_id or row[1]
    return merchant_id or "", terminal_id or ""


class LabelPublisher:
    """Sends the outbox's pending labels to the ``labels`` topic, each exactly once."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine
        self.topic = settings.topics.labels.name
        self.wake = threading.Event()
        self._stop = threading.Event()
        url = engine.url.render_as_string(hide_password=True)
        self._transactional_id = f"fraudguard-panel-labels-{uuid.uuid5(uuid.NAMESPACE_URL, url)}"
        self._producer: Any = None

    def stop(self) -> None:
        self._stop.set()
        self.wake.set()

    def run(self, interval_s: float = 0.2) -> None:
        """Publish until :meth:`stop`; a verdict sets :attr:`wake` so its label goes at once."""
        self.reconcile()
        while not self._stop.is_set():
            self.publish_pending()
            self.wake.wait(interval_s)
            self.wake.clear()

    def _pending(self) -> list[dict[str, Any]]:
        o = t.label_outbox.c
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(o.id, o.label_id, o.txn_id, o.record)
                .where(o.offset.is_(None))
                .order_by(o.id)
                .limit(1000)
            )
            return [dict(r) for r in rows.mappings()]

    def reconcile(self) -> int:
        """Mark as sent the pending labels already on the topic (sent, then the process died
        before recording it); how many."""
        pending = {row["label_id"]: row["id"] for row in self._pending()}
        if not pending:
            return 0
        o = t.label_outbox.c
        with self.engine.connect() as conn:
            starts = dict(
                conn.execute(
                    select(o.partition, func.max(o.offset))
                    .where(o.offset.is_not(None))
                    .group_by(o.partition)
                ).all()
            )
        consumer = make_consumer(self.settings, isolation="read_committed")

        found: dict[str, tuple[int, int]] = {}
        try:
            meta = consumer.list_topics(self.topic, timeout=10).topics.get(self.topic)
            if meta is None:
                raise StackError(f"topic {self.topic!r} does not exist")
            consumer.assign(
                [TopicPartition(self.topic, p, int(starts.get(p, 0))) for p in meta.partitions]
            )
            idle = 0
            while idle < 3:
                messages = consumer.consume(num_messages=5000, timeout=0.5)
                real = [m for m in messages if m.error() is None]
                idle = 0 if real else idle + 1
                for message in real:
                    label_id = _label_id(message.value())
                    if label_id is not None and label_id in pending:
                        found[label_id] = (message.partition() or 0, message.offset() or 0)
        finally:
            consumer.close()
        self._mark(found)
        return len(found)

    def publish_pending(self) -> int:
        """Send what is pending in one Kafka transaction and record where it landed."""
        rows = self._pending()
        if not rows:
            return 0
        producer = self._transactional()
        landed: dict[str, tuple[int, int]] = {}

        def delivered(error: Any, message: Any) -> None:
            if error is None:
                landed[_label_id(message.value()) or ""] = (message.partition(), message.offset())

        try:
            producer.begin_transaction()
            for row in rows:
                producer.produce(
                    self.topic,
                    key=row["txn_id"].encode(),
                    value=row["record"].encode(),
                    on_delivery=delivered,
                )
            producer.commit_transaction(30)
        except KafkaException as exc:
            log.warning("labels not sent yet (%s); trying again", exc)
            self._producer = None  # a fresh producer aborts what the failed one left open
            return 0
        self._mark(landed)
        return len(landed)

    def _transactional(self) -> Any:
        if self._producer is None:
            producer = make_producer(
                self.settings, **{"transactional.id": self._transactional_id, "linger.ms": 0}
            )
            producer.init_transactions(30)
            self._producer = producer
        return self._producer

    def _mark(self, landed: dict[str, tuple[int, int]]) -> None:
        if not landed:
            return
        o = t.label_outbox.c
        with self.engine.begin() as conn:
            for label_id, (partition, offset) in landed.items():
                conn.execute(
                    update(t.label_outbox)
                    .where(o.label_id == label_id)
                    .values(partition=partition, offset=offset)
                )


def _label_id(raw: bytes | None) -> str | None:
    try:
        doc = orjson.loads(raw or b"")
    except orjson.JSONDecodeError:
        return None
    return doc.get("label_id") if isinstance(doc, dict) else None
