"""The panel's speed: the what-if over a million stored decisions, and ingestion from Kafka.

``whatif_ms_1m`` (goal at most 1,000): the median of five what-ifs of ``thresholds/
segments-example.yaml`` against the built-in tiers over 1,000,000 stored decisions spread over
the default 7-day period, with the store's columns already in memory (as in a running panel);
``columns_load_s`` is the one-off load of those columns when a panel starts. ``queue_ms`` and
``case_ms`` (goal at most 200 each): the 95th percentile of the review queue's first page and of
a case (with the explanation of its score) through the panel's API, with 10,000 open cases
among the million decisions. ``ingest_tps``
(goal at least the job's throughput): decisions per second that :class:`Ingester` reads
``read_committed`` from a topic and stores in SQLite, offsets included.

Usage: ``python bench/panel.py [--decisions 1000000] [--ingest 300000] [--skip-ingest]``.
Writes ``bench/results/panel.json``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import orjson
from sqlalchemy import insert

from bench_results import log, run_metadata, write_result
from fraudguard.config import PROJECT_ROOT, Settings
from fraudguard.decision import BUILTIN_TIERS, load_tiers
from fraudguard.decision.whatif import DAY_MS
from fraudguard.panel import tables as t
from fraudguard.panel.columns import DecisionColumns
from fraudguard.panel.db import open_database
from fraudguard.panel.thresholds import what_if_report

MCCS = np.array(["5411", "5732", "5944", "5818", "7995", "5812", "4829", "5999"])


def fill_store(url: str, n: int, now_ms: int, seed: int = 1) -> None:
    """``n`` synthetic decisions over the 7 days before ``now_ms``, a third of them labelled."""
    rng = np.random.default_rng(seed)
    engine = open_database(url)
    chunk = 100_000
    for start in range(0, n, chunk):
        size = min(chunk, n - start)
        scores = rng.beta(0.6, 6.0, size)
        events = now_ms - rng.integers(0, 7 * DAY_MS, size)
        amounts = np.round(rng.lognormal(3.5, 1.2, size), 2)
        mcc = rng.choice(MCCS, size)
        online = rng.random(size) < 0.4
        decision_rows = [
            {
                "txn_id": f"b{start + i}",
                "card_id": f"c{(start + i) % 50_000}",
                "merchant_id": f"m{(start + i) % 3_000}",
                "event_ms": int(events[i]),
                "decided_at_ms": int(events[i]) + 40,
                "amount": float(amounts[i]),
                "currency": "EUR",
                "amount_eur": float(amounts[i]),
                "mcc": str(mcc[i]),
                "channel": "online" if online[i] else "card_present",
                "country": "FR",
                "score": float(scores[i]),
                "base_score": float(scores[i]),
                "decision": "block"
                if scores[i] >= 0.8
                else "review"
                if scores[i] >= 0.5
                else "approve",
                "tier": "default",
                "model_version": "bench",
                "reranker_version": "none",
                "threshold_version": "builtin-v1",
                "feature_version": "bench",
                "explored": bool(rng.random() < 0.002),
                "propensity": 0.5,
                "degraded": False,
                "late": False,
                "features": None,
            }
            for i in range(size)
        ]
        labelled = np.flatnonzero(rng.random(size) < 0.33)
        label_rows = [
            {
                "txn_id": f"b{start + i}",
                "label": "fraud" if rng.random() < scores[i] else "legit",
                "reported_at_ms": now_ms,
                "source": "bench",
                "topic": "bench",
                "partition": 0,
                "offset": start + int(i),
                "provenance": None,
            }
            for i in labelled
        ]
        with engine.begin() as conn:
            conn.execute(insert(t.decisions), decision_rows)
            conn.execute(insert(t.labels), label_rows)
        log(f"stored {start + size:,} decisions")


def what_if_ms(url: str, now_ms: int, repeats: int = 5) -> dict[str, float]:
    engine = open_database(url)
    settings = Settings()
    columns = DecisionColumns(engine)
    started = time.perf_counter()
    loaded = columns.refresh()
    load_s = time.perf_counter() - started
    draft = load_tiers(PROJECT_ROOT / "thresholds" / "segments-example.yaml")
    to_ms = (now_ms // DAY_MS + 1) * DAY_MS
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        report = what_if_report(
            columns, engine, settings, draft, BUILTIN_TIERS, days=8, to_ms=to_ms
        )
        times.append((time.perf_counter() - started) * 1000)
    log(f"what-if over {report['rows']:,} decisions: {[round(x) for x in times]} ms")
    return {
        "whatif_rows": report["rows"],
        "columns_loaded": loaded,
        "columns_load_s": round(load_s, 2),
        "whatif_ms_1m": round(statistics.median(times), 1),
        "whatif_ms_runs": [round(x, 1) for x in times],
    }


def review_pages_ms(url: str, now_ms: int, open_cases: int, folder: Path) -> dict[str, float]:
    """p95 of the queue page's and the case page's API calls, with ``open_cases`` open cases
    (the newest review decisions, given logged features and a registered champion to explain)."""
    import xgboost as xgb
    from fastapi.testclient import TestClient
    from sqlalchemy import select, update

    from fraudguard.features import FEATURE_NAMES, FEATURE_SET_VERSION
    from fraudguard.models.metadata import ModelMetadata
    from fraudguard.models.registry import ModelRegistry
    from fraudguard.panel.accounts import add_user
    from fraudguard.panel.app import create_app
    from fraudguard.panel.audit import Actor
    from fraudguard.panel.cases import CasePolicy, case_row
    from fraudguard.panel.security import Role

    settings = Settings(models_root=folder / "models")
    rng = np.random.default_rng(5)
    X = rng.normal(size=(2_000, len(FEATURE_NAMES))).astype(np.float32)
    booster = xgb.train(
        {"objective": "binary:logistic", "max_depth": 6, "nthread": 1},
        xgb.DMatrix(X, label=X[:, 0] > 1, feature_names=list(FEATURE_NAMES)),
        150,
    )
    registry = ModelRegistry.from_settings(settings)
    registry.register(
        bytes(booster.save_raw("ubj")),
        ModelMetadata(
            version="bench",
            created_at="2026-12-01T00:00:00Z",
            framework="xgboost",
            feature_set_version=FEATURE_SET_VERSION,
            feature_names=list(FEATURE_NAMES),
            scale_pos_weight=1.0,
            code_version="bench",
        ),
    )
    engine = open_database(url)
    d = t.decisions.c
    with engine.begin() as conn:
        # The newest decisions become review decisions with logged features: a full queue.
        newest = select(t.decisions).order_by(d.seq.desc()).limit(open_cases)
        rows = [dict(r) | {"decision": "review"} for r in conn.execute(newest).mappings()]
        packed = rng.normal(size=(len(rows), len(FEATURE_NAMES))).astype("<f4")
        for row, values in zip(rows, packed, strict=True):
            conn.execute(
                update(t.decisions)
                .where(d.seq == row["seq"])
                .values(features=values.tobytes(), decision="review")
            )
        conn.execute(insert(t.cases), [case_row(r, CasePolicy(), now_ms) for r in rows])
    add_user(engine, "bench", Role.ANALYST, "bench-password-1", Actor("bench", "admin"))
    client = TestClient(create_app(settings, engine))
    login = client.post("/api/session", json={"name": "bench", "password": "bench-password-1"})
    client.headers["X-CSRF-Token"] = login.json()["csrf_token"]

    def p95(path: str, runs: int = 40) -> float:
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            answer = client.get(path)
            times.append((time.perf_counter() - started) * 1000)
            assert answer.status_code == 200, answer.text
        return round(float(np.percentile(times, 95)), 1)

    queue = client.get("/api/cases?limit=50").json()
    case_id = queue["cases"][0]["id"]
    measured = {
        "open_cases": queue["total"],
        "queue_ms": p95("/api/cases?limit=50"),
        "queue_filtered_ms": p95("/api/cases?limit=50&mcc=5411&older_than_h=1"),
        "case_ms": p95(f"/api/cases/{case_id}"),
    }
    log(f"queue and case pages: {measured}")
    return measured


def ingest_tps(n: int) -> dict[str, float]:
    """Produce ``n`` decision records to a topic of the run's own, then time the ingester."""
    from fraudguard.panel.ingest import Ingester
    from fraudguard.panel.store import DecisionStore
    from fraudguard.stack import LocalStack, create_topics, delete_topics
    from fraudguard.streams.kafka import make_producer
    from fraudguard.wire.transactions import format_event_time

    base = Settings()
    LocalStack(base).up()
    settings = base.isolated(f"bench{uuid.uuid4().hex[:6]}")
    create_topics(settings)
    try:
        producer = make_producer(settings)
        now = int(time.time() * 1000)
        topic = settings.topics.decisions.name
        for i in range(n):
            producer.produce(
                topic,
                key=f"x{i}".encode(),
                value=orjson.dumps(
                    {
                        "txn_id": f"x{i}",
                        "card_id": f"c{i % 50_000}",
                        "event_time": format_event_time(now - i),
                        "decision": "approve",
                        "score": 0.1,
                        "base_score": 0.1,
                        "model_version": "bench",
                        "threshold_version": "builtin-v1",
                        "decided_at_ms": now,
                        "features": {},
                        "feature_version": "bench",
                        "amount": 12.5,
                        "currency": "EUR",
                        "mcc": "5411",
                        "channel": "online",
                        "country": "FR",
                    }
                ),
            )
            if i % 10_000 == 0:
                producer.poll(0)
        producer.flush(60)
        log(f"produced {n:,} decisions to {topic}")
        with tempfile.TemporaryDirectory() as folder:
            store = DecisionStore(open_database(f"sqlite:///{Path(folder) / 'ingest.db'}"))
            started = time.perf_counter()
            report = Ingester(settings, store).run(max_idle_s=2.0)
            elapsed = time.perf_counter() - started - 2.0
        log(f"ingested {report.decisions:,} in {elapsed:.1f} s")
        return {"ingested": report.decisions, "ingest_tps": round(report.decisions / elapsed)}
    finally:
        delete_topics(settings, [spec.name for spec in settings.topics.all()])


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=1_000_000)
    parser.add_argument("--ingest", type=int, default=300_000)
    parser.add_argument("--open-cases", type=int, default=10_000)
    parser.add_argument("--skip-ingest", action="store_true")
    args = parser.parse_args(argv)
    metadata = run_metadata()
    now_ms = int(time.time() * 1000)
    measured: dict[str, object] = {"decisions": args.decisions}
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'panel.db'}"
        started = time.perf_counter()
        fill_store(url, args.decisions, now_ms)
        measured["fill_s"] = round(time.perf_counter() - started, 1)
        measured.update(what_if_ms(url, now_ms))
        measured.update(review_pages_ms(url, now_ms, args.open_cases, Path(folder)))
    if not args.skip_ingest:
        measured.update(ingest_tps(args.ingest))
    write_result("panel", metadata, measured)


if __name__ == "__main__":
    main(sys.argv[1:])
