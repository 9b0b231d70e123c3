"""`fraudguard train` from files to a registered, promoted model with its report."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from fraudguard.cli.train import train
from fraudguard.config import Settings
from fraudguard.errors import TrainingError
from fraudguard.features import FEATURE_NAMES, FEATURE_SET_VERSION
from fraudguard.models import ModelRegistry
from fraudguard.training.data import LabelledTable

FAST = ["--weights", "1,10", "--folds", "2", "--n-estimators", "30", "--no-compare"]


@pytest.fixture
def files(tmp_path: Path, history_tables: tuple[pa.Table, pa.Table]) -> Path:
    features, labels = history_tables
    pq.write_table(features, tmp_path / "h.features.parquet")
    pq.write_table(labels, tmp_path / "h.labels.parquet")
    return tmp_path / "h.features.parquet"


def test_train_registers_and_promotes_a_model_with_its_report(
    tmp_path: Path, files: Path, history: LabelledTable
) -> None:
    settings = Settings(home=tmp_path / "home")
    result = CliRunner().invoke(
        train, [str(files), *FAST, "--promote", "--no-progress"], obj=settings
    )
    assert result.exit_code == 0, result.output
    assert "<- chosen" in result.output and "test: average precision" in result.output

    registry = ModelRegistry.from_settings(settings)
    (entry,) = registry.entries()
    assert registry.pointer().champion == entry.version
    assert entry.version.startswith("xgb-") and f"model {entry.version} registered" in result.output
    meta = entry.metadata
    assert meta.feature_set_version == FEATURE_SET_VERSION
    assert meta.feature_names == list(FEATURE_NAMES)
    assert meta.training_data["fingerprint"] == history.fingerprint()
    assert meta.training_data["sources"]["labels"].endswith("h.labels.parquet")
    assert [t["weight"] for t in meta.weights_tried] == [1.0, 10.0]
    assert meta.scale_pos_weight in (1.0, 10.0) and meta.code_version
    assert meta.metrics["test"]["average_precision"] > meta.metrics["test"]["fraud_rate"]
    names = (
        "model.ubj",
        "metadata.json",
        "report.json",
        "report.md",
        "pr_curve.png",
        "trees.json",
        "reference.json",
    )
    for name in names:
        assert (entry.path / name).stat().st_size > 0
    assert (entry.path / "pr_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    drift_reference = json.loads((entry.path / "reference.json").read_text())
    top = list(drift_reference["features"])
    assert drift_reference["rows"] > 0 and len(drift_reference["score"]["shares"]) >= 2
    assert 0 < len(top) <= 20 and set(top) <= set(FEATURE_NAMES)
    report = json.loads((entry.path / "report.json").read_text())
    assert (
        report["version"] == entry.version and report["scale_pos_weight"] == meta.scale_pos_weight
    )


def test_labels_known_at_a_date_leave_later_reports_out(tmp_path: Path, files: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    args = [str(files), *FAST, "--no-progress", "--labels-known-at", "2026-01-22"]
    result = CliRunner().invoke(train, args, obj=settings)
    assert result.exit_code == 0, result.output
    (entry,) = ModelRegistry.from_settings(settings).entries()
    assert entry.metadata.training_data["sources"]["labels_known_at"].startswith("2026-01-22")
    total = pq.read_table(files.with_name("h.labels.parquet")).to_pandas()
    assert entry.metadata.training_data["frauds"] < (total.label == "fraud").sum()


def test_a_missing_labels_file_is_a_clear_error(tmp_path: Path, history_tables) -> None:
    pq.write_table(history_tables[0], tmp_path / "x.features.parquet")
    result = CliRunner().invoke(
        train, [str(tmp_path / "x.features.parquet")], obj=Settings(home=tmp_path)
    )
    assert isinstance(result.exception, TrainingError)
    assert "no labels file" in str(result.exception)


ROOT = Path(__file__).resolve().parents[3]
REPLAY = ROOT / "tests" / "data" / "replay"
MAPPINGS = ROOT / "replay" / "mappings"


# PaySim counts time in whole hours: its 300 rows have too few distinct times for two folds.
@pytest.mark.parametrize(("name", "folds"), [("handbook", "2"), ("paysim", "1")])
def test_a_foreign_file_trains_a_challenger_by_its_mapping(
    tmp_path: Path, name: str, folds: str
) -> None:
    settings = Settings(models_root=tmp_path / "models")
    args = [str(REPLAY / f"{name}.csv"), "--mapping", str(MAPPINGS / f"{name}.yaml"),
            "--work", str(tmp_path / "work"), *FAST, "--folds", folds, "--no-progress"]  # fmt: skip
    result = CliRunner().invoke(train, args, obj=settings)
    assert result.exit_code == 0, result.output

    registry = ModelRegistry.from_settings(settings)
    (entry,) = registry.entries()
    assert registry.pointer().champion is None  # a challenger: registered, not promoted
    assert f"fraudguard model promote {entry.version}" in result.output
    sources = entry.metadata.training_data["sources"]
    assert sources["input"] == "foreign payments file"
    assert sources["mapping"] == str(MAPPINGS / f"{name}.yaml")
    assert sources["features"] == str(tmp_path / "work" / "transactions.features.parquet")
    converted = pq.read_table(tmp_path / "work" / "transactions.labels.parquet")
    frauds = converted["label"].to_pylist().count("fraud")
    assert entry.metadata.training_data["frauds"] == frauds > 0
    assert f"{frauds} fraud labels ->" in result.output  # the conversion's summary


def test_a_backtest_and_train_take_a_foreign_file_to_a_challenger(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, register_model
) -> None:
    """The README's two commands, as a modeler types them, beside a champion that stays."""
    from fraudguard.cli import _register, cli

    _register()
    models = tmp_path / "models"
    registry = ModelRegistry(models)
    register_model(registry, "xgb-champion", 1)
    registry.promote("xgb-champion")
    monkeypatch.chdir(tmp_path)
    env = {"FRAUDGUARD_MODELS_ROOT": str(models)}
    runner = CliRunner()
    commands = [
        ["backtest", str(REPLAY / "handbook.csv"), "--mapping", str(MAPPINGS / "handbook.yaml"),
         "--out", "bt"],
        ["train", "bt", "--labels-known-at", "2018-04-10T12:00:00Z", *FAST, "--no-progress"],
    ]  # fmt: skip
    outputs = []
    for command in commands:
        result = runner.invoke(cli, command, env=env)
        assert result.exit_code == 0, result.output
        outputs.append(result.output)

    (challenger,) = [e for e in registry.entries() if e.version != "xgb-champion"]
    assert registry.pointer().champion == "xgb-champion"
    assert f"challenger {challenger.version} (champion: xgb-champion)" in outputs[1]
    data = challenger.metadata.training_data
    assert data["sources"]["input"] == "backtest decisions"
    assert data["sources"]["features"] == str(tmp_path / "bt" / "decisions.parquet")
    assert data["rows"] == 300
    decisions = pq.read_table(tmp_path / "bt" / "decisions.parquet")
    reported = [ms for ms in decisions["label_reported_ms"].to_pylist() if ms is not None]
    cutoff = 1523361600000  # 2018-04-10T12:00:00Z
    assert data["frauds"] == sum(ms <= cutoff for ms in reported) < len(reported) == 9


def test_an_unreadable_cut_off_is_refused_by_its_option(tmp_path: Path, files: Path) -> None:
    result = CliRunner().invoke(
        train, [str(files), "--labels-known-at", "soon"], obj=Settings(home=tmp_path)
    )
    assert "--labels-known-at: 'soon' is not a date" in str(result.exception)


def test_a_work_folder_without_a_mapping_is_refused(tmp_path: Path, files: Path) -> None:
    result = CliRunner().invoke(
        train, [str(files), "--work", str(tmp_path / "w")], obj=Settings(home=tmp_path)
    )
    assert "--work is where a foreign file is converted: it needs --mapping" in str(
        result.exception
    )
