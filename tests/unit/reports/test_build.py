"""A report from decision files: labels as known at the cut-off, two configurations compared
decision by decision, and the files a fraud team opens."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fraudguard.decision import ThresholdTiers
from fraudguard.errors import ConfigError
from fraudguard.reports import ReportSettings, build_report, write_report

DAY = 86_400_000
START = 1_767_571_200_000  # 2026-01-05


def decisions(path: Path, scores: list[float], labels: list[str | None],
              reported: list[int | None], tiers: ThresholdTiers) -> Path:  # fmt: skip
    n = len(scores)
    decided = [tiers.decide_segment(s, "5411", "online", 10.0)[0] for s in scores]
    table = pa.table({
        "txn_id": [f"t{i}" for i in range(n)], "card_id": [f"c{i % 3}" for i in range(n)],
        "ts_ms": [START + i * DAY // 2 for i in range(n)], "decision": decided,
        "score": scores, "explored": [False] * n, "degraded": [False] * n,
        "mcc": ["5411"] * n, "country": ["FR" if i % 2 else "DE" for i in range(n)],
        "channel": ["online"] * n,
        "features": pa.StructArray.from_arrays([pa.array([10.0 * (i + 1) for i in range(n)])],
                                               ["txn_amount_eur"]),
        "label": pa.array(labels, pa.string()), "label_reported_ms": pa.array(reported, pa.int64()),
    })  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return path


LOOSE = ThresholdTiers("loose", review=0.5, block=0.8)
STRICT = ThresholdTiers("strict", review=0.3, block=0.6)
SCORES = [0.9, 0.7, 0.4, 0.2, 0.85, 0.35]
# t1's fraud is reported after the cut-off (at 100): immature; t3 has no label: legitimate
LABELS = ["fraud", None, "legit", None, "legit", "fraud"]
REPORTED = [1, 100, 2, None, 3, 4]


def test_a_label_reported_after_the_cut_off_is_not_used(tmp_path: Path) -> None:
    path = decisions(tmp_path / "d.parquet", SCORES, LABELS, REPORTED, LOOSE)
    report = build_report(path, ReportSettings(labels_known_at_ms=50), LOOSE)
    labels, outcome = report["labels"], report["configs"][0]["outcome"]
    assert (labels["fraud"], labels["immature"], labels["legit_or_unlabelled"]) == (2, 1, 3)
    # caught: t0 (blocked); the fraud t1 reviewed is immature, so not counted as caught
    assert (outcome["fraud"], outcome["fraud_caught"], outcome["false_positives"]) == (2, 1, 1)
    assert outcome["recall"] == 0.5 and outcome["immature"] == 1
    assert outcome["euro_missed"] == 60.0  # t5, 60 EUR, approved at 0.35


def test_two_configurations_are_compared_decision_by_decision(tmp_path: Path) -> None:
    base = decisions(tmp_path / "a.parquet", SCORES, LABELS, REPORTED, LOOSE)
    other = decisions(tmp_path / "b.parquet", SCORES, LABELS, REPORTED, STRICT)
    report = build_report(base, ReportSettings(labels_known_at_ms=50), LOOSE,
                          compare=other, compare_tiers=STRICT)  # fmt: skip
    new, lost = report["changes"]["new"], report["changes"]["lost"]
    assert new["decisions"] == 2 and new["fraud"] == 1 and new["fraud_eur"] == 60.0  # t2, t5
    assert {s["txn_id"] for s in new["sample"]} == {"t2", "t5"}
    assert lost["decisions"] == 0 and lost["sample"] == []
    assert [c["outcome"]["fraud_caught"] for c in report["configs"]] == [1, 2]


def test_files_of_different_transactions_are_refused(tmp_path: Path) -> None:
    base = decisions(tmp_path / "a.parquet", SCORES, LABELS, REPORTED, LOOSE)
    short = decisions(tmp_path / "b.parquet", SCORES[:4], LABELS[:4], REPORTED[:4], LOOSE)
    with pytest.raises(ConfigError, match="not hold the same transactions"):
        build_report(base, ReportSettings(), LOOSE, compare=short)


def test_a_file_that_is_not_a_decision_file_is_refused(tmp_path: Path) -> None:
    pq.write_table(pa.table({"txn_id": ["t1"]}), tmp_path / "x.parquet")
    with pytest.raises(ConfigError, match="not a decision file, it lacks card_id"):
        build_report(tmp_path / "x.parquet", ReportSettings())
    with pytest.raises(ConfigError, match="no decision file there"):
        build_report(tmp_path / "none.parquet", ReportSettings())


def test_the_report_files_hold_the_tables_and_the_plots(tmp_path: Path) -> None:
    base = decisions(tmp_path / "a.parquet", SCORES, LABELS, REPORTED, LOOSE)
    other = decisions(tmp_path / "b.parquet", SCORES, LABELS, REPORTED, STRICT)
    numbers = build_report(base, ReportSettings(labels_known_at_ms=50, top_k=2), LOOSE,
                           {"model_version": "m1", "threshold_version": "loose"},
                           compare=other, compare_tiers=STRICT)  # fmt: skip
    paths = write_report(numbers, tmp_path / "report", "A test")
    for plot in ("pr_curve", "thresholds", "cost_curve", "daily_alerts", "card_precision"):
        assert (tmp_path / "report" / f"{plot}.png").read_bytes()[:4] == b"\x89PNG"
    md, html = paths["md"].read_text(), paths["html"].read_text()
    assert "1 decisions with an immature label" in md and "![pr_curve](pr_curve.png)" in md
    assert "| new positives | 2 | 1 |" in md
    assert html.count("data:image/png;base64,") == 5 and "<td>t5</td>" in html
    assert "card precision@k" in md and "| 2026-01-05 |" in md


def test_a_report_without_labels_shows_decisions_only(tmp_path: Path) -> None:
    path = tmp_path / "d.parquet"
    decisions(path, SCORES, LABELS, REPORTED, LOOSE)
    pq.write_table(pq.read_table(path).drop_columns(["label", "label_reported_ms"]), path)
    numbers = build_report(path, ReportSettings(), LOOSE)
    assert numbers["configs"][0]["thresholds"] == [] and not numbers["labels"]["available"]
    paths = write_report(numbers, tmp_path / "report", "No labels")
    assert "none given, so no precision" in paths["md"].read_text()
    assert not (tmp_path / "report" / "pr_curve.png").exists()
    assert (tmp_path / "report" / "daily_alerts.png").exists()
