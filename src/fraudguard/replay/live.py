"""A replay through the real job: the file converted, a job started for the namespace, the
history played, every decision read back (committed) and written as a decision file, and the
report built from it, as the offline backtest builds its own.

The folder it writes::

    converted/          the mapped file as our transactions and labels (with a mapping)
    decisions.parquet   the namespace's committed decisions, with the labels known at the cut-off
    summary.json        counts, timings, the namespace
    report/             report.md, report.json, report.html and the plots
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from fraudguard.backtest.decide import FEATURES_TYPE
from fraudguard.backtest.labels import KnownLabels
from fraudguard.config import Settings
from fraudguard.errors import ConfigError, StackError
from fraudguard.features.registry import FEATURE_NAMES
from fraudguard.replay.namespace import namespaced
from fraudguard.replay.player import Progress, play
from fraudguard.wire.transactions import parse_event_time

TEXT = ("txn_id", "card_id", "event_time", "decision", "model_version", "threshold_version",
        "tier", "merchant_id", "terminal_id", "currency", "mcc", "country", "channel",
        "challenger_version")  # fmt: skip
NUMBERS = ("score", "base_score", "propensity", "amount", "challenger_score")
FLAGS = ("explored", "degraded", "late")


@dataclass
class Collected:
    decisions: int = 0
    duplicates: int = 0
    dead_letters: int = 0
    first_decision_s: float | None = None
    decided_at: float = 0.0
    """``time.monotonic()`` when the last transaction was decided (before writing the file)."""
    marks_s: dict[int, float] = field(default_factory=dict)
    """Seconds from the start of reading until 10% and 90% of the transactions were decided."""

    def steady_tps(self, expected: int) -> int | None:
        """The rate between the 10% and 90% marks, past the job's warm-up and the tail's
        checkpoint wait: what ``bench/throughput.py`` measures the job by."""
        if 10 not in self.marks_s or 90 not in self.marks_s:
            return None
        span = self.marks_s[90] - self.marks_s[10]
        return round(0.8 * expected / span) if span > 0 else None

    versions: dict[str, set[str]] = field(
        default_factory=lambda: {"model_version": set(), "threshold_version": set()}
    )


def decision_batch(records: list[dict[str, Any]], known: KnownLabels | None) -> pa.Table:
    """Decision records (the topic's JSON) as a decision file's rows, with the labels known."""
    columns: dict[str, pa.Array] = {
        name: pa.array([r.get(name) for r in records], pa.string()) for name in TEXT
    }
    columns |= {name: pa.array([r.get(name) for r in records], pa.float64()) for name in NUMBERS}
    columns |= {name: pa.array([bool(r.get(name)) for r in records]) for name in FLAGS}
    columns["decided_at_ms"] = pa.array([r.get("decided_at_ms") for r in records], pa.int64())
    columns["ts_ms"] = pa.array([parse_event_time(r["event_time"]) for r in records], pa.int64())
    columns["features"] = pa.array(
        [{n: r["features"].get(n, float("nan")) for n in FEATURE_NAMES} for r in records],
        FEATURES_TYPE,
    )
    if known is not None:
        labels, reported = known.arrays(columns["txn_id"])
        columns["label"] = labels
        columns["label_reported_ms"] = reported
    return pa.table(columns)


def txn_id_of(record: bytes) -> bytes:
    """A decision record's ``txn_id`` without parsing the rest (the record opens with it, as
    ``DecisionRecord`` writes it; anything else is parsed).

    >>> txn_id_of(b'{"txn_id":"t-1","card_id":"c"}'), txn_id_of(b'{"card_id":"c","txn_id":"t2"}')
    (b't-1', b't2')
    """
    if record.startswith(_TXN_ID):
        end = record.find(b'"', len(_TXN_ID))
        if end > 0:
            return record[len(_TXN_ID) : end]
    return str(orjson.loads(record).get("txn_id")).encode()


_TXN_ID = b'{"txn_id":"'


def collect_decisions(
    ns: Settings,
    expected: int,
    out: Path,
    known: KnownLabels | None,
    idle_timeout_s: float = 120.0,
    on_wait: Callable[[int], None] | None = None,
) -> Collected:
    """Read the namespace's committed decisions until every transaction played is decided or
    dead-lettered, then write them to ``out``; no progress for ``idle_timeout_s`` is an error.

    While the job runs the records are only spooled to a temporary file, so that reading them
    takes little of the cores the job decides on; they are parsed once it is done."""
    import tempfile

    from fraudguard.streams.kafka import assigned_consumer, end_offsets

    consumer = assigned_consumer(ns, ns.topics.decisions.name, "read_committed")
    seen: set[bytes] = set()
    got = Collected()
    last_progress = started = dlq_checked = time.monotonic()
    with tempfile.TemporaryFile() as spool:
        try:
            while True:
                for msg in consumer.consume(num_messages=10_000, timeout=0.5):
                    if msg.error():
                        continue
                    value = msg.value() or b"{}"
                    txn = txn_id_of(value)
                    if txn in seen:
                        got.duplicates += 1
                        continue
                    seen.add(txn)
                    spool.write(len(value).to_bytes(4, "little") + value)
                    last_progress = time.monotonic()
                    got.first_decision_s = got.first_decision_s or last_progress - started
                got.decisions = len(seen)
                for share in (10, 90):
                    if share not in got.marks_s and got.decisions * 100 >= share * expected:
                        got.marks_s[share] = time.monotonic() - started
                # Asking the broker makes a client: only near the end, or every few seconds.
                near_end = got.decisions + got.dead_letters >= expected
                if near_end or time.monotonic() - dlq_checked > 5.0:
                    got.dead_letters = sum(end_offsets(ns, ns.topics.dlq.name).values())
                    dlq_checked = time.monotonic()
                if got.decisions + got.dead_letters >= expected:
                    got.decided_at = time.monotonic()
                    break
                if on_wait is not None:
                    on_wait(got.decisions)
                if time.monotonic() - last_progress > idle_timeout_s:
                    raise StackError(
                        f"the replay's job decided {got.decisions:,} and dead-lettered "
                        f"{got.dead_letters:,} of {expected:,} transactions, then nothing for "
                        f"{idle_timeout_s:.0f} s; see `fraudguard job status` and its log"
                    )
            settle = time.monotonic() + 2.0  # a duplicate would come just after the last one
            while time.monotonic() < settle:
                for msg in consumer.consume(num_messages=10_000, timeout=0.5):
                    if not msg.error() and txn_id_of(msg.value() or b"{}") in seen:
                        got.duplicates += 1
        finally:
            consumer.close()
        spool.seek(0)
        _write_decisions(spool, out, known, got)
    return got


def _write_decisions(spool: Any, out: Path, known: KnownLabels | None, got: Collected) -> None:
    """The spooled records as a decision file, 50,000 at a time."""
    writer: pq.ParquetWriter | None = None
    try:
        while True:
            records: list[dict[str, Any]] = []
            while len(records) < 50_000 and (head := spool.read(4)):
                record = orjson.loads(spool.read(int.from_bytes(head, "little")))
                records.append(record)
                for key, values in got.versions.items():
                    values.add(str(record.get(key)))
            if not records:
                break
            table = decision_batch(records, known)
            if writer is None:
                writer = pq.ParquetWriter(out, table.schema, compression="lz4")
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()
    if writer is None:  # nothing decided: still a file with the schema
        pq.write_table(decision_batch([], known), out)


def run_replay(
    settings: Settings,
    transactions: Path,
    labels: Path | None,
    name: str,
    speed: float | None,
    out: Path,
    labels_known_at_ms: int | None = None,
    keep_job: bool = False,
    echo: Callable[[str], None] = lambda _: None,
    on_progress: Callable[[Progress], None] | None = None,
) -> dict[str, Any]:
    """Replay ``transactions`` (our JSONL) and ``labels`` through a job of its own in the
    namespace ``name``; return the summary (also written to ``out/summary.json``)."""
    from fraudguard.ops.jobrunner import JobRunner
    from fraudguard.stack.topics import create_topics
    from fraudguard.streams.kafka import end_offsets

    ns = namespaced(settings, name)
    runner = JobRunner(ns)
    if runner.pid() is not None:
        raise ConfigError(f"namespace {name!r} has a job running: `fraudguard replay down "
                          f"{name}` first")  # fmt: skip
    create_topics(ns)
    used = sum(end_offsets(ns, ns.topics.transactions.name).values())
    if used:
        raise ConfigError(
            f"namespace {name!r} already holds {used:,} transactions: "
            f"`fraudguard replay down {name}` first, or choose another name"
        )
    out.mkdir(parents=True, exist_ok=True)
    echo(f"starting the job {ns.flink.job_name} for namespace {name!r}")
    started = time.monotonic()
    runner.start(detached=True, fresh=True)
    try:
        runner.wait_running(timeout_s=240)
        job_ready_s = time.monotonic() - started
        echo(f"job running after {job_ready_s:.0f} s; playing {transactions}")
        played = play(ns, transactions, labels, speed, on_progress)
        cutoff = labels_known_at_ms if labels_known_at_ms is not None else played.event_ms
        known = KnownLabels.from_file(labels, cutoff) if labels is not None and cutoff else None
        waited = time.monotonic()
        got = collect_decisions(ns, played.transactions, out / "decisions.parquet", known)
        drained_s = time.monotonic() - waited
    finally:
        if not keep_job:
            runner.stop()
    # from the job running to the last decision read; writing the file is not the job's time
    elapsed = (got.decided_at or time.monotonic()) - started - job_ready_s
    summary = {
        "namespace": name, "job": ns.flink.job_name,
        "topics": [t.name for t in ns.topics.all()],
        "transactions_file": str(transactions),
        "labels_file": None if labels is None else str(labels),
        "speed": "max" if speed is None else f"{speed:g}x",
        "transactions": played.transactions, "labels_sent": played.labels,
        "labels_after_end": played.labels_after_end,
        "decisions": got.decisions, "duplicates": got.duplicates,
        "dead_letters": got.dead_letters,
        "labels_known_at_ms": cutoff,
        "job_start_s": round(job_ready_s, 1), "play_s": round(played.elapsed_s, 1),
        "model_versions": sorted(got.versions["model_version"]),
        "threshold_versions": sorted(got.versions["threshold_version"]),
        "drain_s": round(drained_s, 1), "elapsed_s": round(elapsed, 1),
        "throughput_tps": round(played.transactions / elapsed) if elapsed > 0 else 0,
        "steady_tps": got.steady_tps(played.transactions),
        "decisions_file": str(out / "decisions.parquet"), "job_kept": keep_job,
    }  # fmt: skip
    (out / "summary.json").write_bytes(orjson.dumps(summary, option=orjson.OPT_INDENT_2))
    return summary
