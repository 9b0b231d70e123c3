"""Online feature store throughput on the local Redis: 100,000 puts for 5,000 cards with 40
features each, then the same stream replayed (every write ignored).

``redis_us_per_put`` is what the store costs Redis itself: the script's time per put, inner
commands included (from INFO commandstats). Needs the stack (`.venv/bin/fraudguard stack up`).
Prints one JSON line and writes it to bench/results/online_store.json. Keys go under a prefix
of their own and are deleted after.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import cast

import redis

from fraudguard.config import Settings
from fraudguard.features.online_store import OnlineFeatureStore

PUTS = 100_000
CARDS = 5_000
FEATURES = 40
FLUSH_EVERY = 500
RESULT = Path(__file__).resolve().parent / "results" / "online_store.json"


def server_seconds(client: redis.Redis) -> float:
    """Time Redis has spent running commands so far (all commands, scripts included)."""
    stats = cast("dict[str, dict[str, float]]", client.info("commandstats"))
    scripts = ("cmdstat_eval", "cmdstat_evalsha")
    return sum(v["usec"] for k, v in stats.items() if k in scripts) / 1e6


def run_pass(
    store: OnlineFeatureStore, events: list[tuple[str, int, str, dict[str, float]]]
) -> dict[str, float]:
    """Put every event; the throughput, the latency of each flush (auto and final) and the
    time Redis spent in the script per put."""
    server_before = server_seconds(store.client)
    latencies: list[float] = []
    applied = 0
    flush = store.flush

    def timed_flush() -> int:
        nonlocal applied
        start = time.perf_counter()
        count = flush()
        latencies.append(time.perf_counter() - start)
        applied += count
        return count

    store.flush = timed_flush  # type: ignore[method-assign]
    start = time.perf_counter()
    for card, ts_ms, txn_id, features in events:
        store.put("card", card, ts_ms, txn_id, features)
    store.flush()
    seconds = time.perf_counter() - start
    del store.flush
    cuts = statistics.quantiles(latencies, n=100)
    return {
        "seconds": round(seconds, 3),
        "writes_per_s": round(len(events) / seconds),
        "flushes": len(latencies),
        "applied": applied,
        "flush_p50_ms": round(cuts[49] * 1000, 3),
        "flush_p99_ms": round(cuts[98] * 1000, 3),
        "redis_us_per_put": round(
            (server_seconds(store.client) - server_before) / len(events) * 1e6, 2
        ),
    }


def main() -> int:
    settings = Settings.from_env(os.environ)  # the defaults unless FRAUDGUARD_* says otherwise
    r = settings.redis
    client = redis.Redis(host=r.host, port=r.port, db=r.db, socket_connect_timeout=5)
    try:
        server = cast("dict[str, object]", client.info("server"))
    except redis.ConnectionError as exc:
        print(f"Redis is not reachable at {r.host}:{r.port} ({exc}); run `fraudguard stack up`")
        return 1
    rng = random.Random(42)
    names = [f"feature_{i:02d}" for i in range(FEATURES)]
    pool = [{name: rng.uniform(0, 1000) for name in names} for _ in range(1000)]
    cards = [f"c{i:06d}" for i in range(CARDS)]
    t0 = 1_795_428_000_000
    events = [
        (rng.choice(cards), t0 + 10 * i, f"t{i:07d}", pool[i % len(pool)]) for i in range(PUTS)
    ]
    prefix = f"fg:bench:{uuid.uuid4().hex[:8]}"
    store = OnlineFeatureStore(client, key_prefix=prefix, flush_every=FLUSH_EVERY)
    try:
        write = run_pass(store, events)
        replay = run_pass(store, events)
    finally:
        store.clear()
    result = {
        "bench": "online_store",
        "puts": PUTS,
        "cards": CARDS,
        "features": FEATURES,
        "flush_every": FLUSH_EVERY,
        "redis_version": server["redis_version"],
        **write,
        "replay": replay,
    }
    line = json.dumps(result)
    print(line)
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(line + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
