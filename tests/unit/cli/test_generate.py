"""`fraudguard generate` in file mode, and its refusals (no services needed)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from fraudguard.cli.generate import generate
from fraudguard.config import Settings
from fraudguard.errors import ConfigError
from fraudguard.generator import read_records


def _run(*args: str):
    return CliRunner().invoke(generate, list(args), obj=Settings())


def test_file_mode_writes_both_files_and_one_summary_line(tmp_path):
    out = tmp_path / "t.parquet"
    args = "--cards 300 --merchants 80 --days 3 --start 2025-03-01 --seed 3 --fraud-rate 0.01"
    result = _run("--out", str(out), *args.split())
    assert result.exit_code == 0, result.output
    assert len(result.output.strip().splitlines()) == 1
    assert "transactions" in result.output and "fraud" in result.output
    rows = read_records(out)
    assert rows[0]["event_time"].startswith("2025-03-01")
    assert read_records(tmp_path / "t.labels.parquet")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "choose one destination"),
        (("--out", "x.csv", "--kafka"), "choose one destination"),
        (("--kafka", "--start", "2025-01-01"), "file mode"),
        (("--kafka", "--days", "60"), "at most"),
        (("--out", "x.csv", "--rate", "10"), "only apply with --kafka"),
        (("--out", "x.csv", "--hindsight-labels"), "only apply with --kafka"),
        (("--kafka", "--hindsight-labels", "--no-labels"), "contradict"),
        (("--out", "x.csv", "--fraud-rate", "0.5"), "fraud_rate"),
        (("--out", "x.csv", "--cards", "3"), "cards"),
        (("--out", "x.xlsx"), "unknown file format"),
    ],
)
def test_refusals_are_config_errors(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    result = _run(*args)
    assert isinstance(result.exception, ConfigError)
    assert message in str(result.exception)
