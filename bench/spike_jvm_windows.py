"""Spike, not the job: how fast can *any* PyFlink pipeline go on this machine when the window
work runs in the JVM? It answers whether the 10,000 tx/s target of `make bench` is reachable by
moving the window aggregation out of Python (Flink SQL ``OVER`` windows), with Python kept for
vectorised scoring (a pandas UDF, which Flink feeds in Arrow batches).

Each variant reads the same generated backlog from Kafka (bounded at the latest offset), writes
one JSON record per transaction to Kafka with the exactly-once sink and checkpoints every 2 s,
in the local mini-cluster, parallelism 1 — the same conditions as `bench/throughput.py`:

- ``passthrough``: parse JSON, write JSON. Kafka, JSON and exactly-once alone.
- ``over_1``: one ``OVER`` window per card (30 days, ``RANGE`` on the event time): count, sum
  and max of the amount.
- ``over_5``: five card windows (10 min to 30 days), one ``OVER`` query each, joined back on
  the transaction id (Flink SQL allows one window per ``OVER`` query).
- ``over_1_pandas``: ``over_1`` plus a pandas UDF scoring every row (a logistic function of
  the three aggregates, numpy on the Arrow batch).

Nothing here is used by the job. Prints one line per variant and a JSON object last, also
written to bench/results/spike_jvm_windows.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from fraudguard.config import Settings
from fraudguard.flink.environment import flink_configuration
from fraudguard.generator import GeneratorConfig, PaymentStream, produce_to_kafka
from fraudguard.kafka_io import end_offsets, read_topic
from fraudguard.stack import LocalStack, create_topics, delete_topics

RESULTS = Path(__file__).resolve().parent / "results"
VARIANTS = ("passthrough", "over_1", "over_5", "over_1_pandas")
HORIZONS = {"10m": "10' MINUTE", "1h": "1' HOUR", "24h": "1' DAY", "7d": "7' DAY", "30d": "30' DAY"}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def spike_checkpoints(settings: Settings) -> Path:
    """This run's checkpoints (deleted at its end: a variant is never resumed)."""
    return settings.home / "spike-chk" / settings.flink.job_name


def sustained_tps(
    settings: Settings, topic: str, n: int, stopped: Callable[[], bool] = lambda: False
) -> float | None:
    """Sustained rate as bench/throughput.py measures it: ``n`` records expected on ``topic``,
    timed between 10% and 90% of them (None if the job stops or 900 s pass first)."""
    started = time.monotonic()
    marks: dict[str, float] = {}
    while len(marks) < 2 and not stopped() and time.monotonic() - started < 900:
        out = sum(end_offsets(settings, topic, "read_uncommitted").values())
        for name, share in (("lo", 0.1), ("hi", 0.9)):
            if name not in marks and out >= share * n:
                marks[name] = time.monotonic()
        time.sleep(0.2)
    return 0.8 * n / (marks["hi"] - marks["lo"]) if len(marks) == 2 else None


def source_ddl(settings: Settings, name: str) -> str:
    return f"""
    CREATE TABLE {name} (
      txn_id STRING, card_id STRING, merchant_id STRING, amount DOUBLE, currency STRING,
      ts TIMESTAMP_LTZ(3) METADATA FROM 'timestamp',
      WATERMARK FOR ts AS ts - INTERVAL '1' SECOND
    ) WITH (
      'connector' = 'kafka', 'topic' = '{settings.topics.transactions.name}',
      'properties.bootstrap.servers' = '{settings.kafka.bootstrap_servers}',
      'properties.group.id' = 'spike-{uuid.uuid4().hex[:6]}',
      'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'latest-offset',
      'format' = 'json', 'json.ignore-parse-errors' = 'true'
    )"""


def sink_ddl(settings: Settings, name: str, columns: str, topic: str) -> str:
    return f"""
    CREATE TABLE {name} ({columns}) WITH (
      'connector' = 'kafka', 'topic' = '{topic}',
      'properties.bootstrap.servers' = '{settings.kafka.bootstrap_servers}',
      'properties.transaction.timeout.ms' = '600000',
      'sink.delivery-guarantee' = 'exactly-once',
      'sink.transactional-id-prefix' = 'spike-{uuid.uuid4().hex[:8]}',
      'format' = 'json'
    )"""


def window(horizon: str) -> str:
    return (f"PARTITION BY card_id ORDER BY ts RANGE BETWEEN INTERVAL '{HORIZONS[horizon]} "
            "PRECEDING AND CURRENT ROW")  # fmt: skip


def run_variant(settings: Settings, variant: str, n: int) -> dict[str, float]:
    from pyflink.common import Configuration
    from pyflink.table import DataTypes, EnvironmentSettings, TableEnvironment
    from pyflink.table.udf import udf

    config = Configuration()
    for key, value in flink_configuration(settings).items():
        config.set_string(key, value)
    config.set_string("execution.checkpointing.dir", spike_checkpoints(settings).resolve().as_uri())
    config.set_string("pipeline.name", f"spike-{variant}")
    env_settings = (
        EnvironmentSettings.new_instance().in_streaming_mode().with_configuration(config).build()
    )
    t_env = TableEnvironment.create(env_settings)
    out_topic = f"{settings.topics.decisions.name}-{variant}"
    out_settings = settings.model_copy(update={"topics": settings.topics.model_copy(
        update={"decisions": settings.topics.decisions.model_copy(update={"name": out_topic})}
    )})  # fmt: skip
    create_topics(out_settings)
    t_env.execute_sql(source_ddl(settings, "tx"))
    if variant == "passthrough":
        columns = "txn_id STRING, card_id STRING, amount DOUBLE"
        query = "SELECT txn_id, card_id, amount FROM tx"
    elif variant in ("over_1", "over_1_pandas"):
        columns = "txn_id STRING, card_id STRING, n BIGINT, s DOUBLE, mx DOUBLE"
        query = (f"SELECT txn_id, card_id, COUNT(*) OVER w, SUM(amount) OVER w, "
                 f"MAX(amount) OVER w FROM tx WINDOW w AS ({window('30d')})")  # fmt: skip
        if variant == "over_1_pandas":

            @udf(result_type=DataTypes.DOUBLE(), func_type="pandas")
            def score(n, s, mx):  # type: ignore[no-untyped-def]
                import numpy as np

                z = 0.01 * n.to_numpy() + 0.0001 * s.to_numpy() - 0.001 * mx.to_numpy()
                import pandas as pd

                return pd.Series(1.0 / (1.0 + np.exp(-z)))

            t_env.create_temporary_function("score", score)
            columns += ", p DOUBLE"
            query = f"SELECT txn_id, card_id, n, s, mx, score(n, s, mx) FROM ({query}) AS t(txn_id, card_id, n, s, mx)"  # noqa: E501
    else:
        parts = []
        for h in HORIZONS:
            t_env.create_temporary_view(f"w{h}", t_env.sql_query(
                f"SELECT txn_id, COUNT(*) OVER w AS n_{h}, SUM(amount) OVER w AS s_{h} "
                f"FROM tx WINDOW w AS ({window(h)})"
            ))  # fmt: skip
            parts.append(h)
        columns = "txn_id STRING, " + ", ".join(f"n_{h} BIGINT, s_{h} DOUBLE" for h in parts)
        select = ", ".join(f"w{h}.n_{h}, w{h}.s_{h}" for h in parts)
        joins = " ".join(f"JOIN w{h} ON w{h}.txn_id = w{parts[0]}.txn_id" for h in parts[1:])
        query = f"SELECT w{parts[0]}.txn_id, {select} FROM w{parts[0]} {joins}"
    t_env.execute_sql(sink_ddl(settings, "scored", columns, out_topic))
    started = time.monotonic()
    job = t_env.execute_sql(f"INSERT INTO scored {query}")
    tps = sustained_tps(settings, out_topic, n)
    job.wait()
    seconds = time.monotonic() - started
    # Counted record by record: offsets also count the sink's transaction markers.
    written = sum(1 for _ in read_topic(out_settings, out_topic, idle_timeout_s=0.0))
    delete_topics(settings, [out_topic])
    result = {"seconds": round(seconds, 1), "records_out": written,
              "throughput_tps": round(tps, 1) if tps else None}  # fmt: skip
    log(f"{variant}: {written:,} of {n:,} written in {seconds:.1f} s; sustained "
        f"{tps or 0:,.0f} tx/s")  # fmt: skip
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=200_000)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    args = parser.parse_args()
    base = Settings.from_env(os.environ)
    LocalStack(base).up()
    settings = base.isolated(f"s{uuid.uuid4().hex[:8]}", job_prefix="fraudguard-spike")
    create_topics(settings)
    try:
        config = GeneratorConfig(seed=0, cards=20_000, merchants=2_000, days=5.0)
        sent = produce_to_kafka(settings, PaymentStream(config.ending_at(int(time.time() * 1000))),
                                limit=args.transactions, labels=False)  # fmt: skip
        n = sent.transactions
        log(f"backlog: {n:,} transactions")
        results = {v: run_variant(settings, v, n) for v in args.variants.split(",")}
    finally:
        delete_topics(settings, [spec.name for spec in settings.topics.all()])
        shutil.rmtree(spike_checkpoints(settings), ignore_errors=True)
    record = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "transactions": n,
        "variants": results,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    text = json.dumps(record)
    (RESULTS / "spike_jvm_windows.json").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
