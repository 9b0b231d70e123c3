"""`fraudguard backtest` on the shipped fixtures: a mapped file converted, decided with two tiers
side by side, the labels known at the cut-off in the decisions; bad dates refused by name."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from fraudguard.cli.backtest import backtest
from fraudguard.config import Settings

ROOT = Path(__file__).resolve().parents[3]


def test_a_mapped_file_is_backtested_with_two_tiers_side_by_side(tmp_path: Path) -> None:
    settings = Settings(models_root=tmp_path / "models")  # no champion: the rules answer
    args = [
        str(ROOT / "tests/data/replay/handbook.csv"),
        "--mapping", str(ROOT / "replay/mappings/handbook.yaml"),
        "--thresholds", str(ROOT / "thresholds/segments-example.yaml"),
        "--compare-thresholds", str(ROOT / "thresholds/default.yaml"),
        "--out", str(tmp_path / "out"),
    ]  # fmt: skip
    result = CliRunner().invoke(backtest, args, obj=settings)
    assert result.exit_code == 0, result.output
    baseline = pq.read_table(tmp_path / "out" / "decisions.parquet")
    compare = pq.read_table(tmp_path / "out" / "compare" / "decisions.parquet")
    assert baseline.num_rows == compare.num_rows == 300
    assert set(baseline["model_version"].to_pylist()) == {"rules-v1"}
    assert all(baseline["degraded"].to_pylist())
    assert set(baseline["threshold_version"].to_pylist()) != set(
        compare["threshold_version"].to_pylist()
    )
    assert baseline["label"].to_pylist().count("fraud") == 9  # every label known by the end
    assert "300 transactions" in result.output


def test_a_date_that_cannot_be_read_is_refused_with_its_option(tmp_path: Path) -> None:
    args = [str(ROOT / "tests/data/replay/handbook.csv"), "--mapping",
            str(ROOT / "replay/mappings/handbook.yaml"), "--to", "tomorrow",
            "--out", str(tmp_path)]  # fmt: skip
    result = CliRunner().invoke(backtest, args, obj=Settings(models_root=tmp_path / "m"))
    assert result.exit_code != 0
    assert "--to: 'tomorrow' is not a date" in str(result.exception)


@pytest.mark.parametrize("layout", ["handbook", "paysim"])
def test_each_shipped_mapping_backtests_its_fixture_to_a_report(
    layout: str, tmp_path: Path
) -> None:
    args = [str(ROOT / f"tests/data/replay/{layout}.csv"),
            "--mapping", str(ROOT / f"replay/mappings/{layout}.yaml"),
            "--out", str(tmp_path / "out")]  # fmt: skip
    result = CliRunner().invoke(backtest, args, obj=Settings(models_root=tmp_path / "m"))
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "out/report/report.json").read_text())
    converted = sum(1 for _ in (tmp_path / "out/converted/transactions.jsonl").open())
    assert report["configs"][0]["outcome"]["transactions"] == converted > 0
    assert report["labels"]["available"] and report["labels"]["fraud"] > 0
    for name in ("report.md", "report.html", "pr_curve.png", "daily_alerts.png"):
        assert (tmp_path / "out/report" / name).stat().st_size > 0
    assert "report.md" in result.output


def scenario(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scenarios" / "s.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_a_scenario_generates_its_history_once_and_reports(tmp_path: Path) -> None:
    (tmp_path / "tiers.yaml").write_text("version: strict\nreview: 0.3\nblock: 0.6\n")
    path = scenario(
        tmp_path,
        f"""
name: small
source: {{generate: {{seed: 3, cards: 300, merchants: 100, days: 3}}}}
baseline: {{model: rules}}
compare: {{thresholds: ../tiers.yaml}}
period: {{from: 2026-01-06, to: 2026-01-08}}
costs: {{fp_eur: 1.0, top_k: 5}}
out: {tmp_path / "out"}
""",
    )
    settings = Settings(models_root=tmp_path / "m")
    first = CliRunner().invoke(backtest, ["--scenario", str(path)], obj=settings)
    assert first.exit_code == 0, first.output
    assert "generated" in first.output
    report = json.loads((tmp_path / "out/report/report.json").read_text())
    assert report["scenario"]["name"] == "small" and report["settings"]["cost_fp_eur"] == 1.0
    assert report["period"]["first_event"].startswith("2026-01-06")
    assert report["period"]["last_event"].startswith("2026-01-07")
    assert [c["threshold_version"] for c in report["configs"]] == ["builtin-v1", "strict"]
    assert [c["model_version"] for c in report["configs"]] == ["rules", "rules"]
    # again, with an option given on the command line in place of the scenario's
    again = CliRunner().invoke(backtest, ["--scenario", str(path), "--cost-fp", "3"],
                               obj=settings)  # fmt: skip
    assert again.exit_code == 0, again.output
    assert "reusing the generated history" in again.output
    report = json.loads((tmp_path / "out/report/report.json").read_text())
    assert report["settings"]["cost_fp_eur"] == 3.0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: x\nsource: {}\n", "source: give a file or generate parameters, not neither"),
        ("name: x\nsource: {file: a.jsonl, generate: {}}\n", "not both"),
        (
            "name: x\nsource: {generate: {}}\nperiod: {to: soon}\n",
            "period.to: 'soon' is not a date",
        ),
        ("name: x\nsource: {generate: {}}\ncosts: {fp: 2}\n", "costs.fp: unknown key"),
        ("name: x\nname: y\nsource: {generate: {}}\n", "key 'name' appears twice"),
        ("name: x y\nsource: {generate: {}}\n", "name: String should match pattern"),
        ("name: x\nsource: {generate: {cards: 1}}\n", "source.generate: 1 validation error"),
        ("name: x\nsource: {file: missing.jsonl}\n", "missing.jsonl: no such file"),
    ],
)
def test_a_bad_scenario_is_refused_with_the_key_and_why(
    text: str, message: str, tmp_path: Path
) -> None:
    path = scenario(tmp_path, text + f"out: {tmp_path / 'out'}\n")
    result = CliRunner().invoke(backtest, ["--scenario", str(path)],
                                obj=Settings(models_root=tmp_path / "m"))  # fmt: skip
    assert result.exit_code != 0
    assert message in str(result.exception), result.exception
    assert str(path) in str(result.exception) or "source" in str(result.exception)


def test_the_shipped_scenario_is_valid() -> None:
    from fraudguard.backtest.scenario import load_scenario

    path = ROOT / "replay/scenarios/generator-history.yaml"
    s = load_scenario(path)
    assert s.source.generate is not None and s.compare is not None
    assert s.baseline.thresholds is not None and s.baseline.thresholds.exists()
    assert s.compare.thresholds is not None and s.compare.thresholds.exists()
