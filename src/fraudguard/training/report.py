"""The training report: JSON for machines, Markdown for people, and the PR-curve plot.

>>> _pct(0.00298)
'0.298%'
>>> _num(float("nan")), _threshold(0.0088371), _threshold(float("inf"))
('n/a', '0.008837', 'none')
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from fraudguard.training.pipeline import TrainingResult
from fraudguard.training.plot import pr_curve_png

REPORT_JSON = "report.json"
REPORT_MD = "report.md"
PR_CURVE_PNG = "pr_curve.png"


def _num(value: Any, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.{digits}f}"


def _threshold(value: float | None) -> str:
    return "none" if value is None or not math.isfinite(value) else f"{value:.4g}"


def _pct(value: float) -> str:
    return f"{value:.3%}"


def _json_safe(value: Any) -> Any:
    """NaN and infinity become null: they are not JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def report_dict(result: TrainingResult, header: dict[str, Any]) -> dict[str, Any]:
    """``header`` (version, creation time, sources) followed by the result's report."""
    return _json_safe({**header, **result.report()})


def _measures(m: dict[str, Any]) -> list[tuple[str, str]]:
    rows = [
        (
            "average precision",
            f"{_num(m['average_precision'])} (fraud rate {_pct(m['fraud_rate'])})",
        ),
        ("ROC AUC", _num(m["roc_auc"])),
    ]
    for p, point in m["recall_at_precision"].items():
        rows.append(
            (
                f"recall at precision {p}",
                f"{_num(point['recall'])} (score >= {_threshold(point['threshold'])})",
            )
        )
    for r, point in m["precision_at_recall"].items():
        rows.append(
            (
                f"precision at recall {r}",
                f"{_num(point['precision'])} (score >= {_threshold(point['threshold'])})",
            )
        )
    rows += [
        (
            f"card precision@{m['k']} per day",
            f"{_num(m['card_precision_at_k'])} (ceiling {_num(m['card_precision_at_k_ceiling'])})",
        ),
        ("Brier score", _num(m["brier_score"], 6)),
        ("expected calibration error", _num(m["expected_calibration_error"], 6)),
    ]
    return rows


def markdown(report: dict[str, Any]) -> str:
    """The report as Markdown (tables, then the plot)."""
    data, test, valid = report["data"], report["metrics"]["test"], report["metrics"]["validation"]
    lines = [
        f"# Model {report['version']}",
        "",
        f"Trained {report['created_at']} on {data['rows']:,} transactions ({data['frauds']:,} "
        f"fraud, {_pct(data['fraud_rate'])}), feature set `{data['feature_set_version']}`, "
        f"data sha256 `{data['fingerprint'][:16]}…`, code `{report['code_version']}`.",
        "",
        "## Split by event time",
        "",
        "| period | rows | fraud | from | to |",
        "|---|---:|---:|---|---|",
    ]
    for name, part in report["split"].items():
        lines.append(
            f"| {name} | {part['rows']:,} | {part['frauds']:,} | {part['first']} | {part['last']} |"
        )
    search = report["weight_search"]
    lines += [
        "",
        "## Class weight",
        "",
        f"{search['method']}.",
        "",
        "| scale_pos_weight | mean average precision | per fold |",
        "|---:|---:|---|",
    ]
    for trial in search["trials"]:
        mark = "**" if trial["weight"] == report["scale_pos_weight"] else ""
        folds = ", ".join(_num(ap, 3) for ap in trial["fold_average_precision"])
        lines.append(
            f"| {mark}{trial['weight']:g}{mark} | {mark}{_num(trial['mean_average_precision'])}"
            f"{mark} | {folds} |"
        )
    lines += [
        "",
        f"Chosen: **{report['scale_pos_weight']:g}**; the model stopped at "
        f"{report['rounds']} rounds.",
        "",
        "## Chosen model",
        "",
        "| measure | test (held out) | validation (early stopping) |",
        "|---|---|---|",
    ]
    for (name, t), (_, v) in zip(_measures(test), _measures(valid), strict=True):
        lines.append(f"| {name} | {t} | {v} |")
    lines += [
        "",
        "## Comparison on the test period",
        "",
        f"| approach | training rows | average precision | ROC AUC | recall at precision 0.8 "
        f"| card precision@{test['k']} | Brier | seconds |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in report["comparison"]:
        m = row["test"]
        rp = m["recall_at_precision"].get("0.8", {}).get("recall")
        lines.append(
            f"| {row['description']} | {row['train_rows']:,} | {_num(m['average_precision'])} "
            f"| {_num(m['roc_auc'])} | {_num(rp)} | {_num(m['card_precision_at_k'])} "
            f"| {_num(m['brier_score'], 5)} | {row['seconds']:.1f} |"
        )
    lines += [
        "",
        "## Calibration on the test period",
        "",
        "| score | transactions | mean score | fraud rate |",
        "|---|---:|---:|---:|",
    ]
    for b in test["reliability"]:
        lines.append(
            f"| {b['low']:.1f}-{b['high']:.1f} | {b['count']:,} | {_num(b['mean_score'])} "
            f"| {_num(b['fraud_rate'])} |"
        )
    lines += ["", "## Most useful features (total gain)", ""]
    top = list(report["feature_importance_gain"].items())[:10]
    lines += [f"{i}. `{name}` {gain:,.0f}" for i, (name, gain) in enumerate(top, 1)]
    lines += ["", f"![precision-recall curves on the test period]({PR_CURVE_PNG})", ""]
    return "\n".join(lines)


def write_report(result: TrainingResult, folder: Path, header: dict[str, Any]) -> dict[str, Any]:
    """Write ``report.json``, ``report.md`` and ``pr_curve.png`` into ``folder``."""
    report = report_dict(result, header)
    (folder / REPORT_JSON).write_text(json.dumps(report, indent=2) + "\n")
    (folder / REPORT_MD).write_text(markdown(report))
    ap = {row["name"]: row["test"]["average_precision"] for row in report["comparison"]}
    test = report["metrics"]["test"]
    pr_curve_png(
        result.curves,
        {k: v if v is not None else math.nan for k, v in ap.items()},
        test["fraud_rate"] or 0.0,
        folder / PR_CURVE_PNG,
        f"{header.get('version', 'model')}: test period",
    )
    return report
