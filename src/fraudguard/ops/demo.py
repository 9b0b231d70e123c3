"""The demo: the whole loop on this machine, from generated payments to counted decisions.

It starts the stack, the job, the panel, the outcomes service and the model governor if
they are not running, streams a generated payment stream into ``transactions`` (its ground truth to
``ground_truth``, which only the outcomes service turns into labels) and follows
``decisions`` (read_committed) until every transaction of this run has its decision,
reporting throughput, the count by decision and the bank's labels as it goes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fraudguard.config import Settings
from fraudguard.generator import GeneratorConfig, PaymentStream, ProduceReport, produce_to_kafka
from fraudguard.ops.jobrunner import JobRunner
from fraudguard.stack import LocalStack
from fraudguard.streams.kafka import end_offsets, offsets_at
from fraudguard.streams.tally import DecisionTally

if TYPE_CHECKING:
    from fraudguard.models.registry import ModelRegistry


@dataclass
class DemoSummary:
    transactions: int
    decisions: int
    duplicates: int
    by_decision: dict[str, int]
    dlq: int
    degraded: int
    elapsed_s: float
    explored: int
    job_started: bool
    late: int = 0
    fraud: int = 0
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def missing(self) -> int:
        return self.transactions - self.decisions

    def line(self) -> str:
        parts = {
            "transactions": self.transactions,
            "decisions": self.decisions,
            "duplicates": self.duplicates,
            "missing": self.missing,
            "approve": self.by_decision.get("approve", 0),
            "review": self.by_decision.get("review", 0),
            "block": self.by_decision.get("block", 0),
            "degraded": self.degraded,
            "explored": self.explored,
            "late": self.late,
            "dlq": self.dlq,
            "fraud_generated": self.fraud,
            "elapsed_s": f"{self.elapsed_s:.1f}",
            "throughput_tps": f"{self.decisions / self.elapsed_s:.0f}" if self.elapsed_s else "0",
            **self.extra,
        }
        return "summary: " + " ".join(f"{k}={v}" for k, v in parts.items())


def demo_generator_config(limit: int | None, seed: int, now_ms: int) -> GeneratorConfig:
    """A stream whose simulated period ends now; a limited run spans just enough days."""
    base = GeneratorConfig(seed=seed, txn_id_prefix=f"demo{now_ms // 1000}-")
    if limit is not None:
        per_day = base.cards * base.daily_txns
        base = base.model_copy(update={"days": max(limit / per_day * 1.2, 0.05)})
    else:
        base = base.model_copy(update={"days": 1.0})
    return base.ending_at(now_ms)


def ensure_bootstrap_model(settings: Settings, on_status: Callable[[str], None]) -> str | None:
    """Train and promote a model on generated history when the registry has no champion the
    job can serve: none at all, or one trained on another feature set than the code computes
    (the job cannot load it and every decision would be the rules', degraded).

    The history is a separate stream (another seed, ending before the demo's payments), so the
    demo's decisions are out of sample. Returns the version trained, or None if a servable
    champion was already there.
    """
    from fraudguard.features import FEATURE_SET_VERSION
    from fraudguard.models.registry import ModelRegistry

    registry = ModelRegistry.from_settings(settings)
    why = bootstrap_reason(registry, FEATURE_SET_VERSION)
    if why is None:
        return None
    from fraudguard.training.history import generated_history
    from fraudguard.training.pipeline import TrainConfig, train
    from fraudguard.training.register import register_result

    started = time.monotonic()
    history = GeneratorConfig(seed=BOOTSTRAP_SEED, cards=3000, merchants=600, days=21)
    on_status(f"{why}: training a bootstrap model on 21 days of generated history")
    data = generated_history(history, settings.flink.dedupe_ttl_ms)
    result = train(data, TrainConfig(weights=(1.0, 10.0, 50.0), compare=False), progress=False)
    entry = register_result(
        registry, result, {"generated": history.model_dump(mode="json")}, settings.project_root
    )
    registry.promote(entry.version)
    ap = result.metrics.get("test", {}).get("average_precision")
    on_status(
        f"champion {entry.version} promoted in {time.monotonic() - started:.0f} s"
        + (f" (held-out average precision {ap:.3f})" if isinstance(ap, float) else "")
    )
    return entry.version


BOOTSTRAP_SEED = 1001


def bootstrap_reason(registry: ModelRegistry, feature_set_version: str) -> str | None:
    """Why the registry needs a bootstrap model for a job computing ``feature_set_version``,
    or None when its champion fits.

    >>> import tempfile
    >>> from pathlib import Path
    >>> from fraudguard.models.registry import ModelMetadata, ModelRegistry
    >>> registry = ModelRegistry(Path(tempfile.mkdtemp()))
    >>> bootstrap_reason(registry, "fs-a")
    'no champion model yet'
    >>> meta = ModelMetadata(version="xgb-1", created_at="2026-11-25T16:00:00Z",
    ...     framework="xgboost 3.2.0", feature_set_version="fs-a", feature_names=["x"],
    ...     scale_pos_weight=1.0, code_version="abc1234")
    >>> _ = registry.register(b"model", meta)
    >>> _ = registry.promote("xgb-1", feature_set_version="fs-a")
    >>> bootstrap_reason(registry, "fs-a") is None
    True
    >>> bootstrap_reason(registry, "fs-b")
    'the champion xgb-1 was trained on feature set fs-a, the job computes fs-b'
    """
    champion = registry.champion()
    if champion is None:
        return "no champion model yet"
    trained_on = registry.trained_on_other_set(champion.version, feature_set_version)
    if trained_on is not None:
        return (
            f"the champion {champion.version} was trained on feature set {trained_on}, "
            f"the job computes {feature_set_version}"
        )
    return None


def start_panel(settings: Settings, on_status: Callable[[str], None]) -> None:
    """The panel in the background, with the demo's users; says where and how to log in."""
    from fraudguard.ops.panel_runner import PanelRunner, ensure_demo_users

    path, logins = ensure_demo_users(settings)
    runner = PanelRunner(settings)
    runner.start()
    on_status(
        f"panel: {runner.url} (log in as admin, password {logins.get('admin', '?')}; "
        f"every demo login, one per role, is in {path}; `fraudguard panel stop` stops it)"
    )


def start_outcomes(settings: Settings, on_status: Callable[[str], None]) -> Callable[[], str]:
    """The outcomes service in the background, started before any payment is sent (a first
    start reads from the topics' ends); a function giving its status for the status line."""
    from fraudguard.ops.outcomes_runner import OutcomesRunner

    runner = OutcomesRunner(settings)
    running = runner.pid() is not None
    runner.start()
    on_status(
        f"outcomes service {'running' if running else 'started'}: the bank's labels from the "
        f"decisions and the ground truth (log: {runner.log_path}; `fraudguard outcomes stop` "
        "stops it)"
    )
    return lambda: outcomes_summary(runner.status(), runner.pid() is not None)


def start_governor(settings: Settings, on_status: Callable[[str], None]) -> None:
    """The model governor in the background. The demo needs nothing from it, so a governor
    that cannot start is said, with where its log is, and the demo goes on without it."""
    from fraudguard.errors import StackError
    from fraudguard.ops.governor_runner import GovernorRunner

    runner = GovernorRunner(settings)
    running = runner.pid() is not None
    try:
        runner.start(timeout_s=10.0)  # then it runs on, reading the week of decisions
    except StackError as exc:
        on_status(f"the model governor did not start, the demo goes on without it: {exc}")
        return
    on_status(
        f"model governor {'running' if running else 'started'}: the promotion and rollback "
        f"gates every {settings.governor.interval_s:g} s (log: {runner.log_path}; "
        "`fraudguard governor stop` stops it)"
    )


def outcomes_summary(status: dict[str, Any] | None, running: bool) -> str:
    """The outcomes service's part of the demo's lines.

    >>> outcomes_summary({"labels": 4, "counts": {"pending": 9, "no_truth": 1}}, True)
    'bank_labels=4 labels_pending=9 outcomes_problems=1'
    >>> outcomes_summary(None, False)
    'outcomes=stopped'
    """
    if not running:
        return "outcomes=stopped"
    from fraudguard.outcomes.service import PROBLEMS

    counts = (status or {}).get("counts", {})
    problems = sum(counts.get(k, 0) for k in PROBLEMS)
    return (
        f"bank_labels={(status or {}).get('labels', 0)} labels_pending={counts.get('pending', 0)}"
        f" outcomes_problems={problems}"
    )


def history_read_already(settings: Settings, start_ms: int) -> bool:
    """Whether ``transactions`` already holds a record stamped at ``start_ms`` or later (a
    record's Kafka timestamp is its event time). A job that read it has its event clock past
    ``start_ms``, and would find a history starting there late (docs/decisions/0009)."""
    topic = settings.topics.transactions.name
    ends = end_offsets(settings, topic)
    since = offsets_at(settings, topic, start_ms)
    return any(since.get(partition, end) < end for partition, end in ends.items())


def _ready_to_start_afresh(
    settings: Settings, runner: JobRunner, start_ms: int, on_status: Callable[[str], None]
) -> bool:
    """Stop the job once it has answered every payment it was given, so that it can start
    without state; whether it was stopped. A job still holding payments after
    ``ANSWER_TIMEOUT_S`` runs on, and this run's history is decided late."""
    from fraudguard.streams.undecided import wait_until_answered

    on_status(
        "transactions already holds payments stamped after this run's history starts "
        f"({_utc(start_ms)}; an earlier demo's): the job, its event clock past them, would "
        "decide this history late, so it starts without state (cards, merchants and devices "
        "with no history; models and tiers stay) once every payment it was given is answered"
    )
    if runner.pid() is None:  # its checkpoint may hold payments it read and did not answer
        runner.start(detached=True)
        runner.wait_running(timeout_s=180)
    left = wait_until_answered(settings, settings.flink.job_name, ANSWER_TIMEOUT_S)
    if left != 0:
        what = "its consumer offsets" if left < 0 else f"{left} payments"
        on_status(
            f"the job has not answered {what} after {ANSWER_TIMEOUT_S:.0f} s: it runs on with "
            "its state, and this run's payments will be decided late"
        )
        return False
    runner.stop()
    return True


ANSWER_TIMEOUT_S = 120.0


def _utc(ms: int) -> str:
    """
    >>> _utc(1_795_428_000_000)
    '2026-11-23 10:00 UTC'
    """
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(ms / 1000))


def run_demo(
    settings: Settings,
    limit: int | None,
    rate: float,
    seed: int,
    on_status: Callable[[str], None],
    timeout_s: float = 600.0,
    stop: threading.Event | None = None,
    bootstrap: bool = True,
    panel: bool = True,
    outcomes: bool = True,
    governor: bool = True,
) -> DemoSummary:
    """Run the loop; ``on_status`` receives a status line about once a second."""
    stop = stop or threading.Event()
    LocalStack(settings).up()
    if bootstrap:
        ensure_bootstrap_model(settings, on_status)
    config = demo_generator_config(limit, seed, int(time.time() * 1000))
    runner = JobRunner(settings)
    fresh = history_read_already(settings, config.start_ms) and _ready_to_start_afresh(
        settings, runner, config.start_ms, on_status
    )
    job_started = runner.pid() is None
    if job_started:
        runner.start(detached=True, fresh=fresh)
        on_status(f"starting the scoring job (log: {runner.log_path})")
        runner.wait_running(timeout_s=180)  # fails fast, with the reason, if it cannot start
    if panel:
        start_panel(settings, on_status)
    outcomes_line = start_outcomes(settings, on_status) if outcomes else None
    if governor:
        start_governor(settings, on_status)

    tally = DecisionTally.from_now(settings, id_prefix=config.txn_id_prefix)
    dlq_start = sum(end_offsets(settings, settings.topics.dlq.name).values())
    produced: dict[str, int] = {"count": 0, "fraud": 0}
    done = threading.Event()
    errors: list[BaseException] = []

    def progress(report: ProduceReport) -> None:
        produced["count"], produced["fraud"] = report.transactions, report.fraud

    def produce() -> None:
        try:
            report = produce_to_kafka(
                settings,
                PaymentStream(config),
                rate=rate,
                limit=limit,
                on_progress=progress,
                should_stop=stop.is_set,
            )
            produced["count"], produced["fraud"] = report.transactions, report.fraud
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            done.set()

    started = time.monotonic()
    thread = threading.Thread(target=produce, name="demo-producer", daemon=True)
    thread.start()
    try:
        try:
            _follow(tally, produced, done, stop, errors, started, timeout_s, on_status,
                    outcomes_line)  # fmt: skip
        except KeyboardInterrupt:
            # Ctrl-C ends an endless demo: stop producing, then report what was decided.
            stop.set()
        # A duplicate would come after the first decision for its id: keep reading briefly.
        settle = time.monotonic() + 3.0
        while time.monotonic() < settle:
            tally.poll(0.25)
    finally:
        stop.set()
        thread.join(timeout=10)
        tally.close()
    elapsed = time.monotonic() - started
    dlq = sum(end_offsets(settings, settings.topics.dlq.name).values()) - dlq_start
    extra = dict(pair.split("=", 1) for pair in outcomes_line().split()) if outcomes_line else {}
    return DemoSummary(
        transactions=produced["count"],
        decisions=tally.decided,
        duplicates=tally.duplicates,
        by_decision=dict(tally.by_decision),
        dlq=dlq,
        degraded=tally.degraded,
        elapsed_s=elapsed,
        explored=tally.explored,
        job_started=job_started,
        late=tally.late,
        fraud=produced["fraud"],
        extra=extra,
    )


def _follow(
    tally: DecisionTally,
    produced: dict[str, int],
    done: threading.Event,
    stop: threading.Event,
    errors: list[BaseException],
    started: float,
    timeout_s: float,
    on_status: Callable[[str], None],
    outcomes_line: Callable[[], str] | None = None,
) -> None:
    last_status, last_decided = 0.0, 0
    while time.monotonic() - started < timeout_s:
        tally.poll(0.25)
        now = time.monotonic()
        if now - last_status >= 1.0:
            tps = (tally.decided - last_decided) / (now - last_status) if last_status else 0.0
            last_status, last_decided = now, tally.decided
            line = _status_line(produced["count"], tally, tps, now - started)
            on_status(line + (f" {outcomes_line()}" if outcomes_line else ""))
        if errors:
            raise errors[0]
        if done.is_set() and (tally.decided >= produced["count"] or stop.is_set()):
            return


def _status_line(produced: int, tally: DecisionTally, tps: float, elapsed: float) -> str:
    by = tally.by_decision
    return (
        f"[{elapsed:6.1f}s] produced={produced} decided={tally.decided} "
        f"lag={produced - tally.decided} tps={tps:.0f} approve={by.get('approve', 0)} "
        f"review={by.get('review', 0)} block={by.get('block', 0)} duplicates={tally.duplicates}"
    )
