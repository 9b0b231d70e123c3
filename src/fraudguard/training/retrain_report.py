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

from fraudguard.wire.transactions import format_event_time

REPORT_JSON = "report.json"
REPORT_MD = "report.md"
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
