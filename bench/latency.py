"""End-to-end latency of the scoring job at fixed rates, uncommitted and committed (issue 21).

An open-loop producer sends live payments (event time now) at each rate of ``--rates`` for
``--seconds`` (after a warm-up, not counted); each payment's latency runs from
its ``produce()`` call to the moment its decision is first read, by a ``read_uncommitted``
reader (the fast answer) and by a ``read_committed`` one (what an exactly-once consumer waits
for, bounded below by the checkpoint interval). The producer lingers 5 ms, as a payment
system's would, and that is counted. The job runs with ``--profile`` (default ``latency``: see
``FlinkSettings.profile``) on topics and a job name of the bench's own, started fresh.

Writes ``bench/results/latency.json``: a list of ``{rate_tps, p50_ms, p99_ms, p999_ms,
p50_ms_committed, p99_ms_committed, ...}``, one per rate, each with the run's metadata.
Usage: python bench/latency.py [--rates 500,1000,2000,5000] [--seconds 60] [--profile P]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import time
import uuid
from typing import Any

import numpy as np
import orjson

from bench_results import RESULTS_DIR, log, run_metadata
from fraudguard.config import Settings
from fraudguard.errors import MetricsError
from fraudguard.features.online_store import OnlineFeatureReader
from fraudguard.metrics.exposition import fetch, parse_text
from fraudguard.metrics.names import LATENCY_BUCKET
from fraudguard.metrics.summary import histogram_quantile
from fraudguard.models.registry import ModelRegistry
from fraudguard.ops.demo import ensure_bootstrap_model
from fraudguard.ops.jobrunner import JobRunner, running_jobs
from fraudguard.stack import LocalStack, create_topics
from throughput import (
    STARTUP_TIMEOUT_S,
    BenchError,
    LatencyResult,
    bench_settings,
    delete_topics_and_group,
    measure_latency,
    payment_producer,
    percentile_ms,
    run_stopping_cleanly,
)


def decide_buckets(runner: JobRunner) -> dict[float, float]:
    """The job's latency histogram now (event time to the decide step), cumulative by upper
    bound; empty when the job serves no metrics."""
    url = runner.metrics_url()
    if url is None:
        return {}
    try:
        samples = parse_text(fetch(url, 5.0))
    except MetricsError as exc:
        log(f"warning: no metrics from {url}: {exc}")
        return {}
    buckets: dict[float, float] = {}
    for sample in samples:
        if sample.name == LATENCY_BUCKET.prometheus_name:
            le = float(sample.labels["le"])
            buckets[le] = buckets.get(le, 0.0) + sample.value
    return buckets


def flink_log(runner: JobRunner) -> str:
    """The job's Flink log so far (the mini-cluster writes one file into its log folder)."""
    return "".join(
        path.read_text(errors="replace") for path in sorted(runner.flink_log_dir.glob("*.log"))
    )


def in_job_quantiles(before: dict[float, float], after: dict[float, float]) -> dict[str, Any]:
    """p50 and p99 of the decisions made between two reads of the histogram: the part of the
    latency spent before the decision leaves the decide step (the rest is the sink, Kafka and
    the reader).

    >>> in_job_quantiles({10.0: 1, 20.0: 1, float("inf"): 1}, {10.0: 3, 20.0: 9, float("inf"): 9})
    {'p50_ms_to_decide': 13.3, 'p99_ms_to_decide': 19.9}
    """
    diff = [(le, after[le] - before.get(le, 0.0)) for le in after]
    quantiles = {q: histogram_quantile(q, diff) for q in (0.5, 0.99)}
    return {
        f"p{round(q * 100)}_ms_to_decide": None if v is None else round(v, 1)
        for q, v in quantiles.items()
    }


_CHECKPOINT_LINE = re.compile(
    r"(Triggering|Completed) checkpoint (\d+) .*?(?:@ (\d+)|checkpointDuration=(\d+) ms)"
)


def checkpoint_spans(log_text: str) -> list[tuple[float, float]]:
    """The ``(triggered, completed)`` epoch milliseconds of each checkpoint in a Flink log.

    >>> checkpoint_spans(
    ...     "Triggering checkpoint 7 (type=...) @ 1000 for job j.\\n"
    ...     "Completed checkpoint 7 for job j (60 bytes, checkpointDuration=246 ms, ...)\\n")
    [(1000.0, 1246.0)]
    """
    triggered: dict[str, float] = {}
    spans = []
    for kind, number, at, duration in _CHECKPOINT_LINE.findall(log_text):
        if kind == "Triggering" and at:
            triggered[number] = float(at)
        elif kind == "Completed" and duration and number in triggered:
            start = triggered.pop(number)
            spans.append((start, start + float(duration)))
    return spans


def tail_during_checkpoints(
    sent_ms: np.ndarray, latency_ms: np.ndarray, spans: list[tuple[float, float]]
) -> dict[str, Any]:
    """How the tail sits against the job's checkpoints: the p99 of payments in flight while a
    checkpoint ran (sent before it completed, deciding after it was triggered) and of the
    others, and the share of the slowest 1% that were in flight during one.

    >>> sent = np.array([0.0, 100.0, 200.0, 300.0])
    >>> tail = tail_during_checkpoints(sent, np.array([5.0, 90.0, 5.0, 6.0]), [(150.0, 180.0)])
    >>> tail["in_checkpoint_share"], tail["p99_ms_in_checkpoint"], tail["slowest_in_checkpoint"]
    (0.25, 90.0, 1.0)
    """
    if not spans or not len(sent_ms):
        return {}
    starts = np.array([a for a, _ in spans])
    ends = np.array([b for _, b in spans])
    # The last checkpoint completed at or after each send: in flight during it if it was
    # triggered before the decision was read.
    at = np.searchsorted(ends, sent_ms)
    inside = np.zeros(len(sent_ms), dtype=bool)
    ok = at < len(ends)
    inside[ok] = starts[at[ok]] <= sent_ms[ok] + latency_ms[ok]
    slowest = latency_ms >= np.percentile(latency_ms, 99)
    return {
        "in_checkpoint_share": round(float(inside.mean()), 3),
        "p99_ms_in_checkpoint": percentile_ms(latency_ms[inside], 99) if inside.any() else None,
        "p99_ms_outside_checkpoint": percentile_ms(latency_ms[~inside], 99)
        if (~inside).any()
        else None,
        "slowest_in_checkpoint": round(float(inside[slowest].mean()), 3),
        "checkpoint_ms_p50": round(float(np.median(ends - starts)), 1),
    }


def latency_row(rate: float, lat: LatencyResult) -> dict[str, Any]:
    """One rate's line of the table.

    >>> import numpy as np
    >>> lat = LatencyResult(sent=4, rate_target_tps=2.0, rate_tps=2.0,
    ...                     uncommitted_ms=np.array([10.0, 20.0, 30.0, 40.0]),
    ...                     committed_ms=np.array([1000.0, 1100.0, 1200.0, 1300.0]))
    >>> row = latency_row(2.0, lat)
    >>> row["p50_ms"], row["p50_ms_committed"], row["missing"]
    (25.0, 1150.0, 0)
    """
    unc, com = lat.uncommitted_ms, lat.committed_ms
    return {
        "rate_tps": rate,
        "achieved_rate_tps": lat.rate_tps,
        "p50_ms": percentile_ms(unc, 50),
        "p99_ms": percentile_ms(unc, 99),
        "p999_ms": percentile_ms(unc, 99.9),
        "max_ms": round(float(unc.max()), 1) if len(unc) else None,
        "p50_ms_committed": percentile_ms(com, 50),
        "p99_ms_committed": percentile_ms(com, 99),
        "p999_ms_committed": percentile_ms(com, 99.9),
        "sent": lat.sent,
        "samples": len(unc),
        "samples_committed": len(com),
        "missing": lat.missing,
        "duplicates": lat.duplicates,
        "missing_uncommitted": lat.missing_uncommitted,
        "duplicates_uncommitted": lat.duplicates_uncommitted,
        "incomplete_reason": lat.incomplete_reason,
    }


def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    base = Settings.from_env(os.environ)
    run_id = uuid.uuid4().hex[:8]
    settings = bench_settings(base, run_id, None)
    settings = settings.model_copy(update={"flink": settings.flink.with_profile(args.profile)})
    flink = settings.flink
    ensure_bootstrap_model(settings, log)
    champion = ModelRegistry.from_settings(settings).champion()
    common = {
        "profile": flink.profile,
        "scoring": f"model {champion.version}" if champion else "rules",
        "batch_delay_ms": flink.batch_delay_ms,
        "bundle_time_ms": flink.bundle_time_ms,
        "buffer_timeout_ms": flink.buffer_timeout_ms,
        "sink_linger_ms": flink.sink_linger_ms,
        "checkpoint_interval_ms": flink.checkpoint_interval_ms,
        "seconds": args.seconds,
    }
    log(f"latency bench {run_id}: starting the local stack if needed")
    try:
        LocalStack(base).up()
        create_topics(settings)
    except Exception as exc:  # noqa: BLE001 - any failure here means "no stack"
        raise BenchError(f"cannot start the local stack: {exc}") from exc
    others = running_jobs(base)
    if others:
        log(f"warning: other jobs are running and share the cores: {', '.join(others)}")
    runner = JobRunner(settings)
    rows: list[dict[str, Any]] = []
    complete = False
    try:
        log(f"starting job {flink.job_name} ({flink.profile} profile); log: {runner.log_path}")
        runner.start(detached=True, fresh=True)
        runner.wait_running(timeout_s=STARTUP_TIMEOUT_S)
        prefix = f"lat{run_id}-"
        # The JIT compiles the per-record code after some 20,000 calls (FlinkSettings.jvm_options):
        # a warm-up at a brisk rate gets there before anything is counted.
        log(f"warm-up: {args.warmup_seconds:g} s at {args.warmup_rate:,.0f}/s, not counted")
        producer = payment_producer(settings)
        measure_latency(
            settings, runner, producer, args.warmup_rate, args.warmup_seconds, f"{prefix}w-", 1
        )
        for k, rate in enumerate(args.rates):
            before = decide_buckets(runner)
            lat = measure_latency(
                settings, runner, producer, rate, args.seconds, f"{prefix}{k}-", k + 2
            )
            split = in_job_quantiles(before, decide_buckets(runner))
            spans = checkpoint_spans(flink_log(runner))
            tail = tail_during_checkpoints(lat.uncommitted_sent_ms, lat.uncommitted_ms, spans)
            row = {**common, **latency_row(rate, lat), **split, **tail,
                   "other_jobs_running": others}  # fmt: skip
            rows.append(row)
            log(
                f"{rate:,.0f}/s: p50 {row['p50_ms']} ms, p99 {row['p99_ms']} ms, p99.9 "
                f"{row['p999_ms']} ms uncommitted (p50/p99 to the decide step "
                f"{row['p50_ms_to_decide']}/{row['p99_ms_to_decide']} ms); "
                f"p99 {row['p99_ms_committed']} ms committed; "
                f"{row['missing']} missing, {row['duplicates']} duplicated"
            )
            if tail:
                log(
                    f"  {tail['in_checkpoint_share']:.0%} of the payments were in flight during "
                    f"a checkpoint (median {tail['checkpoint_ms_p50']} ms): p99 "
                    f"{tail['p99_ms_in_checkpoint']} ms, against "
                    f"{tail['p99_ms_outside_checkpoint']} ms for the others; "
                    f"{tail['slowest_in_checkpoint']:.0%} of the slowest 1%"
                )
        complete = all(row["incomplete_reason"] is None for row in rows)
    finally:
        if runner.stop():
            log(f"stopped job {flink.job_name}")
        delete_topics_and_group(settings)
        OnlineFeatureReader.from_settings(settings).clear()
        shutil.rmtree(settings.checkpoint_dir / flink.job_name, ignore_errors=True)
        shutil.rmtree(runner.job_dir, ignore_errors=True)
        if complete:
            runner.log_path.unlink(missing_ok=True)
        elif runner.log_path.exists():
            log(f"job log kept: {runner.log_path}")
    return rows


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rates",
        type=lambda v: [float(x) for x in v.split(",")],
        default=[500.0, 1000.0, 2000.0, 5000.0],
        help="transactions/s, comma-separated (default 500,1000,2000,5000)",
    )
    parser.add_argument("--seconds", type=float, default=60.0, help="per rate (default 60)")
    parser.add_argument("--warmup-seconds", type=float, default=20.0, help="(default 20)")
    parser.add_argument("--warmup-rate", type=float, default=2000.0, help="(default 2000)")
    parser.add_argument("--profile", choices=("latency", "throughput"), default="latency")
    args = parser.parse_args(argv)
    if any(rate <= 0 for rate in args.rates) or args.seconds <= 0:
        parser.error("rates and --seconds must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    metadata = run_metadata()
    started = time.monotonic()
    rows = run_stopping_cleanly(lambda: run(args))
    if isinstance(rows, int):
        return rows
    table = [{**metadata, **row} for row in rows]
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = RESULTS_DIR / "latency.json"
    out.write_bytes(orjson.dumps(table, option=orjson.OPT_INDENT_2))
    log(f"results: {out} ({time.monotonic() - started:.0f} s)")
    return 0 if rows and all(row["incomplete_reason"] is None for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
