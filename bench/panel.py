"""The panel's speed: the what-if over a million stored decisions, and ingestion from Kafka.

``whatif_ms_1m`` (goal at most 1,000): the median of five what-ifs of ``thresholds/
segments-example.yaml`` against the built-in tiers over 1,000,000 stored decisions spread over
the default 7-day period, with the store's columns already in memory (as in a running panel);
``columns_load_s`` is the one-off load of those columns when a panel starts. ``ingest_tps``
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
    if not args.skip_ingest:
        measured.update(ingest_tps(args.ingest))
    write_result("panel", metadata, measured)


if __name__ == "__main__":
    main(sys.argv[1:])
