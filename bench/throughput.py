"""Throughput and latency of the scoring job: Kafka -> job -> Kafka, on this machine.

Two phases, on topics and a job name of the bench's own (the demo's topics are never touched):

1. Throughput. ``--transactions`` generated payments are produced into a fresh topic, then the
   job is started fresh (no checkpoint). ``throughput_tps`` is the rate at which decisions
   become visible to a ``read_uncommitted`` reader between 10% and 90% of them, so neither the
   job's start-up nor the tail counts.
2. Latency. The same job then receives payments stamped with the current time at a fixed rate
   (``--latency-rate``, default half the measured throughput) for ``--latency-seconds``. Each
   transaction's latency runs from its ``produce()`` call to the moment its decision is first
   read, by a ``read_uncommitted`` reader (processing latency) and by a ``read_committed``
   reader (what a downstream consumer waits for, bounded below by the checkpoint interval).

Decisions are read with the project's :class:`~fraudguard.streams.tally.DecisionTally`. The
last line on stdout is one JSON object, also written to ``bench/results/throughput-<scoring>.json``
(see ``docs/benchmarks.md``). Progress goes to stderr. The job only runs through ``JobRunner``;
the job and the topics are removed at the end, the stack stays up.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

import numpy as np
import orjson
from confluent_kafka import Producer

from bench_results import RESULTS_DIR, log, run_metadata, write_result
from fraudguard.config import Settings
from fraudguard.errors import JobError
from fraudguard.features import FEATURE_NAMES
from fraudguard.features.online_store import OnlineFeatureReader
from fraudguard.generator import GeneratorConfig, PaymentStream, ProduceReport, produce_to_kafka
from fraudguard.ops.jobrunner import JobRunner, running_jobs
from fraudguard.stack import LocalStack, create_topics
from fraudguard.stack.topics import delete_topics, make_admin
from fraudguard.streams.kafka import end_offsets, make_producer
from fraudguard.streams.tally import DecisionTally
from fraudguard.wire.transactions import format_event_time

STARTUP_TIMEOUT_S = 240.0
"""Longest wait from starting the job to its first decision (PyFlink start-up on a busy box)."""
STALL_TIMEOUT_S = 60.0
"""A phase gives up, reporting ``incomplete``, when no new decision arrives for this long."""
MAX_BACKLOG_DAYS = 20.0
SEED = 0
"""The generator's seed unless --seed says otherwise (bench/replay.py plays the same stream)."""
"""Backlog event times span at most this many days (and at most half the retention of the
transactions topic), well inside the job's 35-day age limit."""


class BenchError(Exception):
    """The bench cannot run (stack, topics, producing); exits 2 with the message."""


class _Terminated(BaseException):
    """SIGTERM, turned into an exception so the ``finally`` clauses stop the job."""


# ---------------------------------------------------------------------------------- settings


def bench_settings(base: Settings, run_id: str, parallelism: int | None) -> Settings:
    """``base`` with topics and a job name of this run: the same approach as the tests'
    ``isolated_settings``, so the bench never sees the demo's records, offsets or checkpoints."""
    settings = base.isolated(f"b{run_id}", job_prefix="fraudguard-bench")
    if parallelism is None:
        return settings
    flink = settings.flink.model_copy(update={"parallelism": parallelism})
    return settings.model_copy(update={"flink": flink})


def stream_config(
    n: int, seed: int, prefix: str, now_ms: int, retention_ms: int = -1
) -> GeneratorConfig:
    """A generated stream ending now with comfortably more than ``n`` transactions, whose
    event times all stay within the job's age limit and the topic's retention (more cards
    rather than more days)."""
    base = GeneratorConfig(seed=seed, txn_id_prefix=prefix)
    max_days = MAX_BACKLOG_DAYS
    if retention_ms > 0:
        max_days = min(max_days, retention_ms / 86_400_000 / 2)
    wanted = n * 1.5 + 1000
    cards = max(base.cards, math.ceil(wanted / (base.daily_txns * max_days)))
    days = max(wanted / (cards * base.daily_txns), 0.05)
    return base.model_copy(update={"cards": cards, "days": days}).ending_at(now_ms)


# ---------------------------------------------------------------------------------- helpers


def percentile_ms(values: np.ndarray, q: float) -> float | None:
    return round(float(np.percentile(values, q)), 1) if len(values) else None


def send(producer: Producer, topic: str, value: bytes, key: str, timestamp_ms: int) -> None:
    while True:
        try:
            producer.produce(topic, value=value, key=key, timestamp=timestamp_ms)
            return
        except BufferError:  # local queue full: let the client drain it
            producer.poll(0.05)


def delete_topics_and_group(settings: Settings) -> None:
    """Best effort: the run's topics and the job's consumer group go; failures are logged."""
    names = [spec.name for spec in settings.topics.all()]
    try:
        for name, why in delete_topics(settings, names).items():
            log(f"could not delete topic {name}: {why}")
        admin = make_admin(settings)
        for future in admin.delete_consumer_groups(
            [settings.flink.job_name], request_timeout=30
        ).values():
            try:
                future.result(timeout=40)
            except Exception:  # noqa: BLE001 - the group may never have committed
                pass
    except Exception as exc:  # noqa: BLE001 - best effort
        log(f"could not delete the bench topics {names}: {exc}")


# ---------------------------------------------------------------------------------- readers


@dataclass
class BackgroundTally:
    """Polls a :class:`DecisionTally` in a thread of its own, so that the main thread can
    produce at a steady rate and watch the clock meanwhile."""

    tally: DecisionTally
    isolation: str
    on_batch: Callable[[BackgroundTally, float], None] | None = None
    """Called with the time of each non-empty read, in the reader's thread."""
    error: BaseException | None = None
    ready: threading.Event = field(default_factory=threading.Event)
    stop: threading.Event = field(default_factory=threading.Event)
    last_progress: float = field(default_factory=time.monotonic)
    """When a transaction last got its first decision."""
    poll_timeout_s: float = 0.1
    """A read returns when it has 1,000 decisions or after this long, and every decision it
    returns is stamped with its end: a latency reader needs it short."""
    _thread: threading.Thread | None = None

    def run(self) -> None:
        tally = self.tally
        try:
            while not self.stop.is_set():
                decided = tally.decided
                read = tally.poll(timeout_s=self.poll_timeout_s, max_messages=1000)
                now = time.monotonic()
                self.ready.set()
                if tally.decided > decided:
                    self.last_progress = now
                if read and self.on_batch is not None:
                    self.on_batch(self, now)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            self.error = exc
            self.ready.set()
        finally:
            tally.close()

    def begin(self) -> BackgroundTally:
        self._thread = threading.Thread(
            target=self.run, name=f"decisions-{self.isolation}", daemon=True
        )
        self._thread.start()
        return self

    def end(self) -> None:
        self.stop.set()
        if self._thread is not None:
            self._thread.join(timeout=15)

    def check(self) -> None:
        if self.error is not None:
            raise BenchError(f"reading decisions ({self.isolation}): {self.error}")


def follow_decisions(
    settings: Settings,
    isolation: Literal["read_committed", "read_uncommitted"],
    start: dict[int, int],
    expected: Iterable[str] | None = None,
    timed: bool = False,
    on_batch: Callable[[BackgroundTally, float], None] | None = None,
) -> BackgroundTally:
    """A tally of the decisions topic from ``start``, polled in a thread started here.

    It reads the transaction id from the Kafka key (the job keys each decision by its
    ``txn_id``), sparing this reader, which shares the cores with the job, a JSON parse per
    decision; a fetch waits at most 100 ms, so a decision is read soon after it is visible."""
    tally = DecisionTally(
        settings, expected, start, isolation, by_key=True, timed=timed,
        **{"fetch.wait.max.ms": 100},
    )  # fmt: skip
    # Timed: a read waits at most 1 ms, so a decision's read time is late by about that much
    # (at 0.1 s, reads at 1,000/s ended on the timeout and added 50 ms to the median latency).
    reader = BackgroundTally(tally, isolation, on_batch, poll_timeout_s=0.001 if timed else 0.1)
    return reader.begin()


def decision_partitions(settings: Settings) -> dict[int, int]:
    """Every partition of the decisions topic at its current end (read_uncommitted)."""
    return end_offsets(settings, settings.topics.decisions.name, "read_uncommitted")


# ---------------------------------------------------------------------------------- phases


def cpu_jiffies() -> tuple[int, int, int]:
    """Machine-wide (busy, steal, total) clock ticks from /proc/stat; busy leaves out idle,
    iowait and steal (time the hypervisor gave to another guest)."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    busy = user + nice + system + irq + softirq
    return busy, steal, busy + idle + iowait + steal


@dataclass
class ThroughputResult:
    decided: int = 0
    degraded: int = 0
    throughput_tps: float | None = None
    cpu_ms_per_txn: float | None = None
    """Busy CPU of the whole machine (job, Kafka, Redis, this bench) per decision, between the
    same marks as the throughput: steadier than the rate when the host's speed drifts."""
    steal_pct: float | None = None
    job_startup_s: float | None = None
    first_checkpoint_s: float | None = None
    drain_s: float | None = None
    seconds: list[tuple[float, int]] = field(default_factory=list)
    """(time since the job's start, decisions that second), once a second from the job's first
    checkpoint until the drain."""
    slow_seconds: int | None = None
    """Seconds between the 10% and 90% marks that decided under half of ``throughput_tps``:
    stalls, which the rate over the window averages away."""
    incomplete_reason: str | None = None


def slow_seconds(
    seconds: list[tuple[float, int]], lo_s: float, hi_s: float, throughput_tps: float
) -> int:
    """How many of the per-second counts inside (``lo_s``, ``hi_s``] fell under half of
    ``throughput_tps``.

    >>> slow_seconds([(1.0, 900), (2.0, 4000), (3.0, 11000), (4.0, 200)], 1.5, 3.5, 10000.0)
    1
    """
    return sum(1 for at, count in seconds if lo_s < at <= hi_s and count < 0.5 * throughput_tps)


def produce_backlog(settings: Settings, n: int, config: GeneratorConfig) -> ProduceReport:
    log(f"producing a backlog of {n:,} transactions to {settings.topics.transactions.name}")

    def progress(report: ProduceReport) -> None:
        log(f"  produced {report.transactions:,}/{n:,} ({report.rate:,.0f} tx/s)")

    report = produce_to_kafka(
        settings, PaymentStream(config), limit=n, labels=False, on_progress=progress
    )
    if report.failed or report.transactions != n:
        raise BenchError(
            f"backlog: {report.transactions:,} of {n:,} produced, {report.failed} not delivered"
        )
    on_topic = sum(end_offsets(settings, settings.topics.transactions.name).values())
    if on_topic != n:
        raise BenchError(f"backlog: {on_topic:,} records on the topic, expected {n:,}")
    log(f"backlog ready: {report.describe()}")
    return report


def measure_throughput(settings: Settings, runner: JobRunner, n: int) -> ThroughputResult:
    """Start the job on the backlog and time the decisions as they appear (read_uncommitted)."""
    result = ThroughputResult()
    lo_target, hi_target = math.ceil(0.1 * n), math.ceil(0.9 * n)
    marks: dict[str, tuple[int, float]] = {}
    cpu: dict[str, tuple[int, int, int]] = {}

    def on_batch(reader: BackgroundTally, now: float) -> None:
        decided = reader.tally.decided
        if "first" not in marks:
            marks["first"] = (decided, now)
        if "lo" not in marks and decided >= lo_target:
            marks["lo"] = (decided, now)
            cpu["lo"] = cpu_jiffies()
        if "hi" not in marks and decided >= hi_target:
            marks["hi"] = (decided, now)
            cpu["hi"] = cpu_jiffies()
        if "all" not in marks and decided >= n:
            marks["all"] = (decided, now)

    start = {p: 0 for p in decision_partitions(settings)}
    reader = follow_decisions(settings, "read_uncommitted", start, on_batch=on_batch)
    try:
        log(
            f"starting job {settings.flink.job_name} (fresh, parallelism "
            f"{settings.flink.parallelism}); log: {runner.log_path}"
        )
        started = time.monotonic()
        runner.start(detached=True, fresh=True)
        try:
            # Kills and starts again a start that hangs (docs/operations.md); the marks
            # keep coming from the reader's thread meanwhile.
            runner.wait_running(timeout_s=STARTUP_TIMEOUT_S)
            result.first_checkpoint_s = round(time.monotonic() - started, 2)
        except JobError as exc:
            result.incomplete_reason = str(exc)
        last_status, last_decided = time.monotonic(), reader.tally.decided
        while "all" not in marks and result.incomplete_reason is None:
            time.sleep(0.2)
            reader.check()
            now = time.monotonic()
            if now - last_status >= 1.0:
                decided = reader.tally.decided
                tps = (decided - last_decided) / (now - last_status)
                log(f"  decided {decided:,}/{n:,} ({tps:,.0f}/s)")
                result.seconds.append((round(now - started, 1), round(tps)))
                last_status, last_decided = now, decided
            if runner.pid() is None:
                result.incomplete_reason = f"the job exited; see {runner.log_path}"
                break
            if "first" not in marks and now - started > STARTUP_TIMEOUT_S:
                result.incomplete_reason = f"no decision within {STARTUP_TIMEOUT_S:.0f} s of start"
                break
            if "first" in marks and now - reader.last_progress > STALL_TIMEOUT_S:
                result.incomplete_reason = (
                    f"no new decision for {STALL_TIMEOUT_S:.0f} s "
                    f"({reader.tally.decided:,} of {n:,} decided)"
                )
                break
    finally:
        reader.end()
    result.decided = reader.tally.decided
    result.degraded = reader.tally.degraded
    if "first" in marks:
        result.job_startup_s = round(marks["first"][1] - started, 2)
    if "all" in marks:
        result.drain_s = round(marks["all"][1] - started, 2)
    if "lo" in marks and "hi" in marks and marks["hi"][1] > marks["lo"][1]:
        (c_lo, t_lo), (c_hi, t_hi) = marks["lo"], marks["hi"]
        result.throughput_tps = round((c_hi - c_lo) / (t_hi - t_lo), 1)
        (b_lo, s_lo, all_lo), (b_hi, s_hi, all_hi) = cpu["lo"], cpu["hi"]
        tick_ms = 1000 / os.sysconf("SC_CLK_TCK")
        result.cpu_ms_per_txn = round((b_hi - b_lo) * tick_ms / (c_hi - c_lo), 4)
        result.steal_pct = round(100 * (s_hi - s_lo) / max(1, all_hi - all_lo), 1)
        result.slow_seconds = slow_seconds(
            result.seconds, t_lo - started, t_hi - started, result.throughput_tps
        )
    if result.incomplete_reason is not None:
        log(f"throughput phase incomplete: {result.incomplete_reason}")
    else:
        log(
            f"drained {n:,} in {result.drain_s} s (first decision after "
            f"{result.job_startup_s} s): {result.throughput_tps:,.0f} decisions/s, "
            f"{result.cpu_ms_per_txn} CPU ms a decision (steal {result.steal_pct}%), "
            f"{result.slow_seconds} slow seconds"
        )
    return result


def wait_committed(settings: Settings, timeout_s: float) -> float | None:
    """Seconds until every record on the decisions topic is committed (no open transaction)."""
    topic = settings.topics.decisions.name
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if end_offsets(settings, topic, "read_committed") == end_offsets(
            settings, topic, "read_uncommitted"
        ):
            return time.monotonic() - started
        time.sleep(0.2)
    return None


@dataclass
class LatencyResult:
    sent: int = 0
    rate_target_tps: float = 0.0
    rate_tps: float | None = None
    uncommitted_ms: np.ndarray = field(default_factory=lambda: np.empty(0))
    committed_ms: np.ndarray = field(default_factory=lambda: np.empty(0))
    uncommitted_sent_ms: np.ndarray = field(default_factory=lambda: np.empty(0))
    """When each payment of ``uncommitted_ms`` was sent, epoch milliseconds."""
    missing: int = 0
    missing_uncommitted: int = 0
    duplicates: int = 0
    duplicates_uncommitted: int = 0
    incomplete_reason: str | None = None


def live_rows(n: int, seed: int, prefix: str) -> tuple[list[dict[str, Any]], list[str]]:
    """``n`` generated transactions as wire dicts (their event time is set when sent)."""
    config = stream_config(n, seed, prefix, int(time.time() * 1000))
    rows: list[dict[str, Any]] = []
    for batch in PaymentStream(config).batches():
        rows.extend(batch.wire_dicts()[: n - len(rows)])
        if len(rows) >= n:
            break
    if len(rows) < n:
        raise BenchError(f"the generator gave {len(rows):,} transactions, {n:,} wanted")
    return rows, [row["card_id"] for row in rows]


def payment_producer(settings: Settings) -> Producer:
    """The producer of the latency phases, made once and kept like a payment system's.

    It lingers 5 ms, the client's default, as a payment system's producer would. A new
    idempotent producer asks the broker for its producer id before its first send, on a 500 ms
    retry timer when no connection is up yet at its creation: a fresh one per phase made the
    first half second of every rate its slowest 1% (505 ms), a cost no long-lived producer
    pays. Made well before its first measured payment (the warm-up or the backlog phase runs
    in between), it has its id by then.
    """
    producer = make_producer(settings, **{"linger.ms": 5})
    producer.list_topics(settings.topics.transactions.name, timeout=10)
    return producer


def measure_latency(
    settings: Settings,
    runner: JobRunner,
    producer: Producer,
    rate: float,
    seconds: float,
    prefix: str,
    seed: int,
) -> LatencyResult:
    total = max(1, math.ceil(rate * seconds))
    result = LatencyResult(rate_target_tps=round(rate, 1))
    rows, keys = live_rows(total, seed, prefix)
    index = {row["txn_id"]: k for k, row in enumerate(rows)}
    sent_at = np.full(total, np.nan)
    # The wall clock of time.monotonic()'s zero, to place each send among the job's checkpoints.
    epoch_offset_s = time.time() - time.monotonic()

    start = decision_partitions(settings)
    readers = [
        follow_decisions(settings, isolation, start, expected=index, timed=True)
        for isolation in ("read_uncommitted", "read_committed")
    ]
    uncommitted, committed = (reader.tally for reader in readers)
    try:
        for reader in readers:
            if not reader.ready.wait(30):
                raise BenchError(f"the {reader.isolation} reader did not start within 30 s")
            reader.check()
        # Latency is measured from produce(), so it includes the producer's linger of 5 ms.
        # (linger.ms 0 made every payment a request of its own; at 5,000/s the broker and the
        # client then took the CPU the job needed, and the job fell behind.)
        topic = settings.topics.transactions.name
        log(f"latency: producing {total:,} live transactions at {rate:,.0f}/s for {seconds:g} s")
        t0 = time.monotonic()
        last_status, i = t0, 0
        dumps, clock = orjson.dumps, time.monotonic
        while i < total:
            now = clock()
            due = min(total, int((now - t0) * rate) + 1)
            if due > i:
                # Event time and record timestamp are both now, as for a live payment.
                now_ms = int(time.time() * 1000)
                event_time = format_event_time(now_ms)
                for k in range(i, due):
                    row = rows[k]
                    row["event_time"] = event_time
                    value = dumps(row)
                    sent_at[k] = clock()
                    send(producer, topic, value, keys[k], now_ms)
                i = due
                producer.poll(0)
            else:
                time.sleep(min(0.002, max(0.0, t0 + i / rate - now)))
            if now - last_status >= 1.0:
                last_status = now
                log(
                    f"  sent {i:,}/{total:,}, decided {uncommitted.decided:,} uncommitted, "
                    f"{committed.decided:,} committed"
                )
                for reader in readers:
                    reader.check()
                if runner.pid() is None:
                    result.incomplete_reason = f"the job exited; see {runner.log_path}"
                    break
        t_end = clock()
        result.sent = i
        result.rate_tps = round((i - 1) / (t_end - t0), 1) if i > 1 and t_end > t0 else None
        if (left := producer.flush(30)) > 0:
            log(f"  {left} transactions still undelivered after 30 s")
        log("latency: waiting for the last decisions")
        last_status = clock()
        while result.incomplete_reason is None and (
            committed.decided < i or uncommitted.decided < i
        ):
            time.sleep(0.2)
            for reader in readers:
                reader.check()
            now = clock()
            if now - last_status >= 1.0:
                last_status = now
                log(
                    f"  decided {uncommitted.decided:,}/{i:,} uncommitted, "
                    f"{committed.decided:,}/{i:,} committed"
                )
            if runner.pid() is None:
                result.incomplete_reason = f"the job exited; see {runner.log_path}"
                break
            if now - max(t_end, *(r.last_progress for r in readers)) > STALL_TIMEOUT_S:
                result.incomplete_reason = (
                    f"no new decision for {STALL_TIMEOUT_S:.0f} s "
                    f"({committed.decided:,} of {i:,} committed)"
                )
                break
        # A duplicate would arrive after the first decision: keep reading a little longer.
        time.sleep(max(3.0, 2 * settings.flink.checkpoint_interval_ms / 1000))
    finally:
        for reader in readers:
            reader.end()

    def latencies(tally: DecisionTally) -> np.ndarray:
        first_seen = tally.first_seen or {}
        ks = np.fromiter((index[t] for t in first_seen), dtype=np.int64)
        seen = np.fromiter(first_seen.values(), dtype=np.float64)
        return (seen - sent_at[ks]) * 1000.0 if len(ks) else np.empty(0)

    result.uncommitted_ms = latencies(uncommitted)
    sent_of = np.fromiter((index[t] for t in uncommitted.first_seen or {}), dtype=np.int64)
    result.uncommitted_sent_ms = (sent_at[sent_of] + epoch_offset_s) * 1000.0
    result.committed_ms = latencies(committed)
    result.missing = result.sent - committed.decided
    result.missing_uncommitted = result.sent - uncommitted.decided
    result.duplicates = committed.duplicates
    result.duplicates_uncommitted = uncommitted.duplicates
    if result.incomplete_reason is not None:
        log(f"latency phase incomplete: {result.incomplete_reason}")
    return result


# ---------------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--transactions",
        type=int,
        default=300_000,
        help="backlog size (default 300000: at 5,000 tx/s the throughput marks sit a minute "
        "apart, past most of the JVM's warm-up)",
    )
    parser.add_argument(
        "--latency-rate",
        type=float,
        default=None,
        help="transactions/s of the latency phase (default: half the measured throughput)",
    )
    parser.add_argument(
        "--latency-seconds",
        type=float,
        default=20.0,
        help="length of the latency phase; 0 skips it (default 20)",
    )
    parser.add_argument(
        "--parallelism", type=int, default=None, help="Flink parallelism (default: settings)"
    )
    parser.add_argument(
        "--out", type=Path, default=RESULTS_DIR, help=f"results folder (default {RESULTS_DIR})"
    )
    parser.add_argument("--seed", type=int, default=SEED, help="generator seed (default 0)")
    parser.add_argument(
        "--scoring",
        choices=("model", "rules"),
        default="model",
        help="model: score with the registry's champion (a bootstrap model is trained and "
        "promoted first when there is none, as `make demo` does); rules: features and the "
        "rule score only (default model)",
    )
    args = parser.parse_args(argv)
    if args.transactions < 100:
        parser.error("--transactions must be at least 100")
    if args.latency_rate is not None and args.latency_rate <= 0:
        parser.error("--latency-rate must be positive")
    if args.latency_seconds < 0:
        parser.error("--latency-seconds must be >= 0")
    if args.parallelism is not None and args.parallelism < 1:
        parser.error("--parallelism must be >= 1")
    return args


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Both phases; what they measured, and the run's settings."""
    wall_started = time.monotonic()
    base = Settings.from_env(os.environ)
    run_id = uuid.uuid4().hex[:8]
    settings = bench_settings(base, run_id, args.parallelism)
    n = args.transactions
    out: dict[str, Any] = {
        "transactions": n,
        "flink_parallelism": settings.flink.parallelism,
        "execution_mode": settings.flink.execution_mode,
        "checkpoint_interval_ms": settings.flink.checkpoint_interval_ms,
        "bundle_size": settings.flink.bundle_size,
        "bundle_time_ms": settings.flink.bundle_time_ms,
        "transaction_partitions": settings.topics.transactions.partitions,
        "features": len(FEATURE_NAMES),
        "job_name": settings.flink.job_name,
    }

    if args.scoring == "rules":
        # An empty registry: the job scores with the rules (every decision degraded).
        empty = settings.home / "bench-no-models" / run_id
        settings = settings.model_copy(update={"models_root": empty})
        out["scoring"] = "rules"
    else:
        from fraudguard.models.registry import ModelRegistry
        from fraudguard.ops.demo import ensure_bootstrap_model

        ensure_bootstrap_model(settings, log)
        champion = ModelRegistry.from_settings(settings).champion()
        out["scoring"] = f"model {champion.version}" if champion else "rules"

    log(f"bench run {run_id}: starting the local stack if needed")
    try:
        LocalStack(base).up()
        create_topics(settings)
    except Exception as exc:  # noqa: BLE001 - any failure here means "no stack"
        raise BenchError(
            f"cannot start the local stack on {base.kafka.bootstrap_servers} "
            f"(redis port {base.redis.port}): {exc}"
        ) from exc

    runner = JobRunner(settings)
    others = running_jobs(base)
    out["other_jobs_running"] = others
    if others:
        # An idle demo job alone took about 5% of a core from the measured one.
        log(f"warning: other jobs are running and share the cores: {', '.join(others)}")
    complete = False
    try:
        prefix = f"bench{run_id}-"
        retention = settings.topics.transactions.retention_ms
        config = stream_config(n, args.seed, prefix, int(time.time() * 1000), retention)
        produce_backlog(settings, n, config)
        producer = payment_producer(settings)  # for the latency phase, which follows
        tp = measure_throughput(settings, runner, n)
        out.update(
            throughput_tps=tp.throughput_tps,
            cpu_ms_per_txn=tp.cpu_ms_per_txn,
            steal_pct=tp.steal_pct,
            job_startup_s=tp.job_startup_s,
            first_checkpoint_s=tp.first_checkpoint_s,
            drain_s=tp.drain_s,
            slow_seconds=tp.slow_seconds,
            decided_per_second=[count for _, count in tp.seconds],
            backlog_decided=tp.decided,
            backlog_degraded=tp.degraded,
        )
        reasons = [f"throughput: {tp.incomplete_reason}"] if tp.incomplete_reason else []
        if args.scoring == "model" and tp.degraded:
            # Then this is no measure of the model path: the job could not serve the champion.
            reasons.append(
                f"model: {tp.degraded:,} of {tp.decided:,} backlog decisions were degraded "
                "(scored by the rules, not the champion; see the job's log)"
            )
        if not tp.incomplete_reason:
            settled = wait_committed(settings, 60.0)
            out["backlog_committed_after_s"] = None if settled is None else round(settled, 2)
        rate = args.latency_rate or (0.5 * tp.throughput_tps if tp.throughput_tps else None)
        if args.latency_seconds > 0 and not tp.incomplete_reason and rate:
            lat = measure_latency(
                settings, runner, producer, rate, args.latency_seconds, f"{prefix}L-",
                args.seed + 1,
            )  # fmt: skip
            unc, com = lat.uncommitted_ms, lat.committed_ms
            out.update(
                p50_ms=percentile_ms(unc, 50),
                p99_ms=percentile_ms(unc, 99),
                max_ms=round(float(unc.max()), 1) if len(unc) else None,
                p50_ms_committed=percentile_ms(com, 50),
                p99_ms_committed=percentile_ms(com, 99),
                max_ms_committed=round(float(com.max()), 1) if len(com) else None,
                latency_rate_tps=lat.rate_tps,
                latency_rate_target_tps=lat.rate_target_tps,
                latency_samples=len(unc),
                latency_samples_committed=len(com),
                latency_sent=lat.sent,
                missing=lat.missing,
                duplicates=lat.duplicates,
                missing_uncommitted=lat.missing_uncommitted,
                duplicates_uncommitted=lat.duplicates_uncommitted,
            )
            if lat.incomplete_reason:
                reasons.append(f"latency: {lat.incomplete_reason}")
        elif args.latency_seconds > 0:
            reasons.append("latency: skipped because the throughput phase did not finish")
        out["dlq"] = sum(end_offsets(settings, settings.topics.dlq.name).values())
        out["incomplete"] = bool(reasons)
        if reasons:
            out["incomplete_reasons"] = reasons
            out["job_log"] = str(runner.log_path)
        complete = not reasons
    finally:
        if runner.stop():
            log(f"stopped job {settings.flink.job_name}")
        delete_topics_and_group(settings)
        # The run's own online-store keys: left behind, they grow Redis (and its snapshots,
        # which fork and write during later runs) by some 200 MB every few runs.
        OnlineFeatureReader.from_settings(settings).clear()
        shutil.rmtree(settings.checkpoint_dir / settings.flink.job_name, ignore_errors=True)
        shutil.rmtree(runner.job_dir, ignore_errors=True)
        if args.scoring == "rules" and settings.models_root is not None:
            shutil.rmtree(settings.models_root, ignore_errors=True)
        if complete:
            runner.log_path.unlink(missing_ok=True)
        elif runner.log_path.exists():
            log(f"job log kept: {runner.log_path}")
    out["bench_s"] = round(time.monotonic() - wall_started, 1)
    return out


T = TypeVar("T")


def run_stopping_cleanly(run: Callable[[], T]) -> T | int:
    """``run()``, with SIGTERM and Ctrl-C stopping it through its ``finally`` clauses; an exit
    code instead of its result when it could not run (2) or was interrupted (130)."""

    def terminated(_signum: int, _frame: Any) -> None:
        raise _Terminated

    signal.signal(signal.SIGTERM, terminated)
    try:
        return run()
    except BenchError as exc:
        log(f"error: {exc}")
        return 2
    except (KeyboardInterrupt, _Terminated):
        log("interrupted: the bench job was stopped and its topics deleted")
        return 130


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    metadata = run_metadata()
    result = run_stopping_cleanly(lambda: run(args))
    if isinstance(result, int):
        return result
    write_result(f"throughput-{args.scoring}", metadata, result, args.out)
    return 1 if result["incomplete"] else 0


if __name__ == "__main__":
    sys.exit(main())
