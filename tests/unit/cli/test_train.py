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
