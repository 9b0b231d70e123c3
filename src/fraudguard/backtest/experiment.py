"""A scenario run end to end: its source made ready (converted by its mapping, or generated),
every payment decided by each configuration, and the report written beside the decisions.

The folder it writes (``scenario.out``)::

    source/          the generator's history, when the scenario generates it (kept, reused)
    converted/       the mapped file as our transactions and labels, with the rejects
    decisions.parquet, compare/decisions.parquet, summary.json
    report/          report.md, report.json, report.html and the plots
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fraudguard.backtest.engine import run_backtest
from fraudguard.backtest.rows import CHAMPION, FOREVER_MS, NEVER_MS
from fraudguard.backtest.scenario import Scenario
from fraudguard.config import Settings
from fraudguard.control.reranker_message import RerankerChange
from fraudguard.decision import BUILTIN_TIERS, ThresholdTiers, load_tiers
from fraudguard.errors import ConfigError
from fraudguard.generator.sinks import default_labels_path
from fraudguard.reports import ReportSettings, build_report, write_report
from fraudguard.wire.times import to_ms


@dataclass(frozen=True)
class ExperimentResult:
    summary: dict[str, Any]
    """What :func:`~fraudguard.backtest.engine.run_backtest` returns."""
    report: dict[str, Path]
    """The report's files by kind (``json``, ``md``, ``html``)."""


def prepare_source(scenario: Scenario, echo: Callable[[str], None]) -> tuple[Path, Path | None]:
    """The transactions file (our JSONL) and labels file the scenario's source comes to."""
    source, out = scenario.source, scenario.out
    assert out is not None  # set by Scenario.resolved
    if source.generate is not None:
        return _generated(source.generate, out / "source", echo)
    assert source.file is not None
    if not source.file.exists():
        raise ConfigError(f"{source.file}: no such file (the scenario's source)")
    if source.mapping is not None:
        from fraudguard.replay.convert import convert_file
        from fraudguard.replay.mapping_file import load_mapping

        converted = out / "converted" / "transactions.jsonl"
        converted.parent.mkdir(parents=True, exist_ok=True)
        report = convert_file(source.file, load_mapping(source.mapping), converted,
                              labels_file=source.labels)  # fmt: skip
        echo(report.summary())
        return converted, report.labels_out
    if source.file.suffix != ".jsonl":
        raise ConfigError(f"{source.file}: without a mapping the backtest reads FraudGuard's "
                          "JSONL; convert other files with a mapping")  # fmt: skip
    labels = source.labels or default_labels_path(source.file)
    return source.file, labels if labels.exists() else None


def _generated(
    params: dict[str, Any], folder: Path, echo: Callable[[str], None]
) -> tuple[Path, Path]:
    """The generator's history for ``params``, written once and reused while they match."""
    from fraudguard.generator import GeneratorConfig, PaymentStream, write_files

    try:
        config = GeneratorConfig(**params)
    except Exception as exc:  # noqa: BLE001 - pydantic's message, on one line
        raise ConfigError(f"source.generate: {' '.join(str(exc).split())}") from None
    transactions, stamp = folder / "transactions.jsonl", folder / "generator.json"
    wanted = config.model_dump_json()
    if transactions.exists() and stamp.exists() and stamp.read_text() == wanted:
        echo(f"reusing the generated history in {transactions}")
        return transactions, default_labels_path(transactions)
    folder.mkdir(parents=True, exist_ok=True)
    stamp.unlink(missing_ok=True)
    written = write_files(PaymentStream(config), transactions)
    stamp.write_text(wanted)
    echo(f"generated {written.describe()} -> {transactions}")
    return transactions, default_labels_path(transactions)


def published_reranker(settings: Settings, which: str) -> RerankerChange:
    """A snapshot published on the control topic: ``current`` or one by its version."""
    from fraudguard.control.changes import published_rerankers

    published = published_rerankers(settings)
    if not published:
        raise ConfigError("no re-ranker snapshot is published on the control topic")
    if which == "current":
        return published[-1]
    for change in reversed(published):
        if change.snapshot.version == which:
            return change
    known = ", ".join(c.snapshot.version for c in published[-5:])
    raise ConfigError(f"re-ranker {which!r} was never published (the latest: {known})")


def _tiers(path: Path | None) -> ThresholdTiers:
    return load_tiers(path) if path is not None else BUILTIN_TIERS


def run_experiment(
    scenario: Scenario, settings: Settings, echo: Callable[[str], None] = lambda _: None
) -> ExperimentResult:
    """Run ``scenario`` (already :meth:`~Scenario.resolved`) and write its report."""
    out = scenario.out
    assert out is not None
    transactions, labels = prepare_source(scenario, echo)
    period = scenario.period
    from_ms, until_ms = to_ms(period.start, "period.from"), to_ms(period.end, "period.to")
    known_at_ms = to_ms(period.labels_known_at, "period.labels_known_at")
    baseline, compare = scenario.baseline, scenario.compare
    tiers = _tiers(baseline.thresholds)
    compare_tiers = _tiers(compare.thresholds) if compare is not None else None
    reranker = published_reranker(settings, baseline.reranker) if baseline.reranker else None
    summary = run_backtest(
        transactions, out, settings, model=baseline.model or CHAMPION, tiers=tiers,
        compare_model=compare.model if compare is not None else None,
        compare_tiers=compare_tiers,
        from_ms=NEVER_MS if from_ms is None else from_ms,
        to_ms=FOREVER_MS if until_ms is None else until_ms,
        labels=labels, labels_known_at_ms=known_at_ms, reranker=reranker,
    )  # fmt: skip
    report_settings = _report_settings(scenario, summary["labels_known_at_ms"])

    def meta(arm: dict[str, Any]) -> dict[str, Any]:
        return {k: arm[k] for k in ("model_version", "threshold_version", "exploration")}

    numbers = build_report(
        Path(summary["baseline"]["decisions_file"]), report_settings, tiers,
        meta(summary["baseline"]),
        compare=Path(summary["compare"]["decisions_file"]) if "compare" in summary else None,
        compare_tiers=compare_tiers,
        compare_meta=meta(summary["compare"]) if "compare" in summary else None,
    )  # fmt: skip
    numbers["scenario"] = json.loads(scenario.model_dump_json(by_alias=True))
    numbers["run"] = {k: summary[k] for k in ("transactions", "elapsed_s", "throughput_tps")}
    title = f"Backtest {scenario.name}" + (
        f": {scenario.description}" if scenario.description else ""
    )
    paths = write_report(numbers, out / "report", title)
    return ExperimentResult(summary, paths)


def _report_settings(scenario: Scenario, labels_known_at_ms: int | None) -> ReportSettings:
    costs = scenario.costs
    return ReportSettings(
        cost_fp=costs.fp_eur, cost_review=costs.review_eur, review_minutes=costs.review_minutes,
        top_k=costs.top_k, labels_known_at_ms=labels_known_at_ms,
    )  # fmt: skip


def run_replay_experiment(
    scenario: Scenario,
    settings: Settings,
    name: str,
    speed: float | None,
    keep_job: bool = False,
    echo: Callable[[str], None] = lambda _: None,
    on_progress: Callable[[Any], None] | None = None,
) -> ExperimentResult:
    """``scenario``'s source replayed through a job of its own in the namespace ``name``
    (:func:`~fraudguard.replay.live.run_replay`), its baseline tiers published there first, and
    the report built from the committed decisions as :func:`run_experiment` builds its own. The
    replay decides with the registry's champion; ``compare`` and ``period.from``/``to`` are a
    backtest's and are not used here."""
    from fraudguard.control.changes import publish_tiers
    from fraudguard.replay.live import run_replay
    from fraudguard.replay.namespace import namespaced
    from fraudguard.stack.topics import create_topics

    out = scenario.out
    assert out is not None
    transactions, labels = prepare_source(scenario, echo)
    tiers = _tiers(scenario.baseline.thresholds)
    if scenario.baseline.thresholds is not None:
        ns = namespaced(settings, name)
        create_topics(ns)
        publish_tiers(ns, tiers)  # read by the job from the control topic's start
    known_at_ms = to_ms(scenario.period.labels_known_at, "period.labels_known_at")
    summary = run_replay(
        settings, transactions, labels, name, speed, out, labels_known_at_ms=known_at_ms,
        keep_job=keep_job, echo=echo, on_progress=on_progress,
    )  # fmt: skip
    served = {k: ", ".join(summary[f"{k}s"]) for k in ("model_version", "threshold_version")}
    numbers = build_report(
        Path(summary["decisions_file"]),
        _report_settings(scenario, summary["labels_known_at_ms"]), tiers, served,
    )  # fmt: skip
    numbers["run"] = summary
    paths = write_report(numbers, out / "report", f"Replay {name} through the job")
    return ExperimentResult(summary, paths)
