"""The panel's ingester, killed with SIGKILL mid-stream and started again, stores every committed
decision exactly once and nothing of an aborted transaction, on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import orjson
import pytest
from sqlalchemy import func, select

from fraudguard.config import Settings
from fraudguard.panel import tables as t
from fraudguard.panel.db import open_database
from fraudguard.streams.kafka import make_producer
from fraudguard.wire.transactions import format_event_time

pytestmark = pytest.mark.integration

BATCHES, PER_BATCH = 30, 2_000


def environment(settings: Settings, database_url: str) -> dict[str, str]:
    """The environment of an ingester that reads the test's own topics into ``database_url``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRAUDGUARD_")}
    env["FRAUDGUARD_HOME"] = str(settings.home)
    env["FRAUDGUARD_KAFKA__BOOTSTRAP_PORT"] = str(settings.kafka.bootstrap_port)
    env["FRAUDGUARD_PANEL__DATABASE_URL"] = database_url
    env["FRAUDGUARD_PANEL__INGEST_BATCH"] = "100"  # many database transactions per Kafka one
    for field in ("decisions", "labels"):
        spec = getattr(settings.topics, field)
        env[f"FRAUDGUARD_TOPICS__{field.upper()}__NAME"] = spec.name
        env[f"FRAUDGUARD_TOPICS__{field.upper()}__PARTITIONS"] = str(spec.partitions)
    return env


def produce(settings: Settings, committed: list[str], done: threading.Event) -> None:
    """Decisions in Kafka transactions, every fifth one aborted, as the job's sink writes them."""
    producer = make_producer(settings, **{"transactional.id": f"ingest-test-{uuid.uuid4().hex}"})
    producer.init_transactions(30)
    now = int(time.time() * 1000)
    topic = settings.topics.decisions.name
    try:
        for batch in range(BATCHES):
            producer.begin_transaction()
            ids = [f"i{batch}-{i}" for i in range(PER_BATCH)]
            for n, txn_id in enumerate(ids):
                producer.produce(
                    topic,
                    key=txn_id.encode(),
                    value=orjson.dumps(
                        {
                            "txn_id": txn_id,
                            "card_id": f"c{n % 97}",
                            "event_time": format_event_time(now),
                            "decision": "review",
                            "score": 0.6,
                            "model_version": "m1",
                            "threshold_version": "v1",
                            "decided_at_ms": now,
                            "features": {},
                            "amount": 20.0,
                            "currency": "EUR",
                            "mcc": "5411",
                            "channel": "online",
                            "country": "FR",
                        }
                    ),
                )
            if batch % 5 == 4:
                producer.abort_transaction(30)
            else:
                producer.commit_transaction(30)
                committed.extend(ids)
            time.sleep(0.3)  # a stream that lasts: the ingester is killed while it flows
    finally:
        done.set()


def stored(database_url: str) -> tuple[int, int]:
    engine = open_database(database_url)
    with engine.connect() as conn:
        rows = conn.execute(select(func.count()).select_from(t.decisions)).scalar_one()
        unique = conn.execute(select(func.count(func.distinct(t.decisions.c.txn_id)))).scalar_one()
    engine.dispose()
    return int(rows), int(unique)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_killed_ingester_restarts_without_losing_or_doubling(
    isolated_settings: Settings, tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'panel.db'}"
    else:
        url = request.getfixturevalue("postgres_database_url")
    env = environment(isolated_settings, url)
    command = [sys.executable, "-m", "fraudguard", "panel", "ingest"]
    committed: list[str] = []
    done = threading.Event()
    producer = threading.Thread(target=produce, args=(isolated_settings, committed, done))
    producer.start()
    log = tmp_path / "ingest.log"
    with log.open("ab") as out:
        first = subprocess.Popen(command, env=env, stdout=out, stderr=out)
        deadline = time.monotonic() + 120
        # Killed while a Kafka transaction is half stored, so the restart must resume inside it:
        # the ingester is frozen (SIGSTOP) while the store is looked at, killed if it is there.
        engine = open_database(url)
        while time.monotonic() < deadline:
            first.send_signal(signal.SIGSTOP)
            with engine.connect() as conn:
                count = conn.execute(select(func.count()).select_from(t.decisions)).scalar_one()
            if count >= 3 * PER_BATCH and count % PER_BATCH:
                break
            first.send_signal(signal.SIGCONT)
            time.sleep(0.01)
        engine.dispose()
        assert not done.is_set(), "the stream ended before the kill: nothing mid-stream"
        first.send_signal(signal.SIGKILL)
        first.wait(30)
        killed_at = stored(url)[0]
        second = subprocess.run(
            [*command, "--until-idle", "5"],
            env=env,
            stdout=out,
            stderr=out,
            timeout=300,
            check=False,
        )
    producer.join(120)
    assert done.is_set() and second.returncode == 0, log.read_text()[-2000:]
    rows, unique = stored(url)
    assert 0 < killed_at < len(committed)
    assert rows == unique == len(committed) == BATCHES * PER_BATCH * 4 // 5
    engine = open_database(url)
    with engine.connect() as conn:
        ids = set(conn.execute(select(t.decisions.c.txn_id)).scalars())
        offsets = dict(
            conn.execute(select(t.ingest_offsets.c.topic, t.ingest_offsets.c.next_offset)).all()
        )
    engine.dispose()
    assert ids == set(committed)  # and nothing of an aborted transaction
    assert offsets[isolated_settings.topics.decisions.name] > 0
