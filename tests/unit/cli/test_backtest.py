"""`fraudguard backtest` on the shipped fixtures: a mapped file converted, decided with two tiers
side by side, the labels known at the cut-off in the decisions; bad dates refused by name."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
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
