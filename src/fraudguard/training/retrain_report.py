"""The retraining report: which of the naive and the weighted model won, and by how much.

>>> md = markdown({"version": "xgb-1", "winner": "naive", "blocked_policy": "drop",
...     "cutoff_ms": 0, "test_from_ms": 0, "label_window_ms": 86_400_000,
...     "review_budget_per_day": 5, "training_set": {"kept": 3}, "training_rows": 3,
...     "training_frauds": 1, "test_decisions": 2, "unbiased_sample_decisions": 1,
...     "unbiased_sample_labels": "ground truth", "measures": {"naive": {"unbiased_sample": {
...     "rows": 1, "frauds": 0, "average_precision": None, "recall_at_budget": None}}},
...     "weighted_minus_naive": {"unbiased_sample": {"average_precision": None,
...     "recall_at_budget": None}}})
>>> md.splitlines()[0], "| naive | unbiased sample | 1 | 0 | n/a | n/a |" in md
('# Retrained model xgb-1: naive won', True)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fraudguard.models.registry import ModelRegistry
from fraudguard.wire.transactions import format_event_time

REPORT_JSON = "report.json"
REPORT_MD = "report.md"
SUMMARY_KEYS = (
    "winner", "cutoff_ms", "test_from_ms", "label_window_ms", "blocked_policy",
    "review_budget_per_day", "training_rows", "training_frauds", "training_set",
    "test_decisions", "unbiased_sample_decisions", "unbiased_sample_labels", "measures",
    "weighted_minus_naive",
)  # fmt: skip
"""What the panel and ``fraudguard model status`` show of a retraining report."""
_PARTS = {"unbiased_sample": "unbiased sample", "ground_truth": "ground truth (evaluation only)"}


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def _signed(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.4f}"


def markdown(report: dict[str, Any]) -> str:
    """The report as Markdown."""
    day = 86_400_000
    lines = [
        f"# Retrained model {report['version']}: {report['winner']} won",
        "",
        f"Bank labels known at {format_event_time(report['cutoff_ms'])}; test period from "
        f"{format_event_time(report['test_from_ms'])}; label window "
        f"{report['label_window_ms'] / day:g} days; blocked policy `{report['blocked_policy']}`; "
        f"review budget {report['review_budget_per_day']} a day.",
        "",
        f"Training set: {report['training_rows']:,} decisions, {report['training_frauds']:,} "
        f"known frauds. " + ", ".join(f"{k} {v:,}" for k, v in report["training_set"].items()),
        "",
        f"Test period: {report['test_decisions']:,} decisions, of which "
        f"{report['unbiased_sample_decisions']:,} explored (the unbiased sample, labelled by "
        f"{report['unbiased_sample_labels']}).",
        "",
        "| model | measured on | rows | frauds | average precision | recall at budget |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for name, parts in report["measures"].items():
        for part, m in parts.items():
            lines.append(
                f"| {name} | {_PARTS[part]} | {m['rows']:,} | {m['frauds']:,} "
                f"| {_num(m['average_precision'])} | {_num(m['recall_at_budget'])} |"
            )
    lines += ["", "Weighted minus naive:", ""]
    for part, diff in report["weighted_minus_naive"].items():
        lines.append(
            f"- {_PARTS[part]}: average precision {_signed(diff['average_precision'])}, "
            f"recall at budget {_signed(diff['recall_at_budget'])}"
        )
    lines += [
        "",
        "The winner is the better on the unbiased sample by average precision; a tie, or a "
        "sample without fraud, keeps the naive model.",
        "",
    ]
    return "\n".join(lines)


def write_report(report: dict[str, Any], folder: Path) -> None:
    """``report.json`` and ``report.md`` in ``folder``."""
    (folder / REPORT_JSON).write_text(json.dumps(report, indent=2) + "\n")
    (folder / REPORT_MD).write_text(markdown(report))


def winner_margin(report: dict[str, Any]) -> dict[str, float | None]:
    """By how much the winner beat the other model on the unbiased sample (the comparison that
    chose it): zero on a tie, ``None`` when the sample had no fraud (both keep the naive one).

    >>> winner_margin({"winner": "naive", "weighted_minus_naive": {"unbiased_sample": {
    ...     "average_precision": -0.05, "recall_at_budget": None}}})
    {'average_precision': 0.05, 'recall_at_budget': None}
    """
    sign = 1 if report["winner"] == "weighted" else -1
    diff = report["weighted_minus_naive"]["unbiased_sample"]
    return {
        key: None if diff[key] is None else round(sign * diff[key], 6) + 0.0  # never -0.0
        for key in ("average_precision", "recall_at_budget")
    }


def newest(registry: ModelRegistry) -> dict[str, Any] | None:
    """The newest model ``fraudguard retrain`` registered (its metadata names the winner under
    ``training_data.retrain``), with what its report says (:data:`SUMMARY_KEYS`) and the
    winner's margin; ``None`` when no model was retrained. A report that cannot be read is said
    in ``report_error`` rather than hiding the retrain: the model is registered all the same."""
    retrained = [e for e in registry.entries() if e.metadata.training_data.get("retrain")]
    if not retrained:
        return None
    entry = retrained[-1]
    meta = entry.metadata
    view: dict[str, Any] = {
        "version": meta.version, "created_at": meta.created_at,
        "winner": meta.training_data["retrain"], "winner_margin": None, "report_error": None,
    }  # fmt: skip
    try:
        report = json.loads((entry.path / REPORT_JSON).read_text())
        summary = {key: report[key] for key in SUMMARY_KEYS}
        view.update(summary, winner_margin=winner_margin(report))
    except FileNotFoundError:
        view["report_error"] = f"{meta.version} has no {REPORT_JSON}"
    except (OSError, ValueError, KeyError, TypeError) as exc:
        what = f"lacks {exc}" if isinstance(exc, KeyError) else "is not a report"
        view["report_error"] = f"the {REPORT_JSON} of {meta.version} {what}"
    return view
