"""Verdicts reach the labels topic within a second, exactly once, read_committed: a retried
click sends nothing twice, and a publisher that died after Kafka's commit but before recording
it finds its labels on the topic instead of sending them again."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import orjson
import pytest
from sqlalchemy import update

from fraudguard.config import Settings
from fraudguard.panel import cases
from fraudguard.panel import tables as t
from fraudguard.panel.accounts import Session, User
from fraudguard.panel.audit import Actor
from fraudguard.panel.db import open_database
from fraudguard.panel.labels import LabelPublisher
from fraudguard.panel.security import Role
from fraudguard.panel.store import Batch, DecisionStore, Position
from fraudguard.streams.kafka import read_topic
from fraudguard.wire.transactions import format_event_time

pytestmark = pytest.mark.integration


def review(i: int) -> bytes:
    now = int(time.time() * 1000)
    return orjson.dumps(
        {
            "txn_id": f"L{i}",
            "card_id": "c1",
            "event_time": format_event_time(now),
            "decision": "review",
            "score": 0.6,
            "model_version": "m1",
            "threshold_version": "v1",
            "decided_at_ms": now,
            "features": {},
            "amount": 80.0,
            "currency": "EUR",
            "mcc": "5411",
            "channel": "online",
            "country": "FR",
        }
    )


def labels_on_topic(settings: Settings) -> list[dict]:
    messages = read_topic(settings, settings.topics.labels.name, idle_timeout_s=1.0)
    return [orjson.loads(m.value()) for m in messages]


def test_verdicts_become_labels_once_even_across_a_crash(
    isolated_settings: Settings, tmp_path: Path
) -> None:
    settings = isolated_settings
    engine = open_database(f"sqlite:///{tmp_path / 'panel.db'}")
    DecisionStore(engine).write(Batch(decisions=[Position("d", 0, i, review(i)) for i in range(3)]))
    ana = Session(User(1, "ana", Role.ANALYST), "x", 0)
    actor = Actor("ana", "analyst")
    publisher = LabelPublisher(settings, engine)
    running = threading.Thread(target=publisher.run, daemon=True)
    running.start()
    try:
        first = cases.take_next(engine, ana, actor)
        clicked = time.monotonic()
        cases.decide(engine, settings.panel, ana, actor, first["id"], "fraud")
        publisher.wake.set()
        cases.decide(engine, settings.panel, ana, actor, first["id"], "fraud")  # clicked again
        # Committed to Kafka (so visible to read_committed readers) once its offset is recorded.
        while time.monotonic() - clicked < 5 and not _sent(engine, "L0"):
            time.sleep(0.01)
        took = time.monotonic() - clicked
        seen = labels_on_topic(settings)
    finally:
        publisher.stop()
        running.join(10)
    assert took <= 1.0
    [label] = seen
    assert (label["txn_id"], label["label"], label["source"], label["analyst"]) == (
        "L0",
        "fraud",
        "review",
        "ana",
    )

    # A publisher that sent its labels but died before recording where they landed.
    second = cases.take_next(engine, ana, actor)
    cases.decide(engine, settings.panel, ana, actor, second["id"], "legit")
    LabelPublisher(settings, engine).publish_pending()
    with engine.begin() as conn:
        conn.execute(
            update(t.label_outbox)
            .values(partition=None, offset=None)
            .where(t.label_outbox.c.txn_id == second["txn_id"])
        )
    restarted = LabelPublisher(settings, engine)
    assert restarted.reconcile() == 1
    assert restarted.publish_pending() == 0
    on_topic = labels_on_topic(settings)
    assert [(r["txn_id"], r["label"]) for r in on_topic] == [
        ("L0", "fraud"),
        (second["txn_id"], "legit"),
    ]


def _sent(engine, txn_id: str) -> bool:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    with engine.connect() as conn:
        offsets = conn.execute(
            select(t.label_outbox.c.offset).where(t.label_outbox.c.txn_id == txn_id)
        )
        return any(o is not None for o in offsets.scalars())
