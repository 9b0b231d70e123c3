"""`fraudguard model list|show|promote|rollback` on a registry of a few models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from fraudguard.cli.model import model
from fraudguard.config import Settings
from fraudguard.errors import ModelError
from fraudguard.features import FEATURE_SET_VERSION
from fraudguard.models import ModelMetadata, ModelRegistry


def meta(version: str, feature_set: str = FEATURE_SET_VERSION) -> ModelMetadata:
    return ModelMetadata(
        version=version,
        created_at=f"2026-11-25T16:00:0{version[-1]}Z",
        framework="xgboost 3.2.0",
        feature_set_version=feature_set,
        feature_names=["a"],
        scale_pos_weight=5.0,
        code_version="abc1234",
        metrics={"test": {"average_precision": 0.61234, "fraud_rate": 0.00298}},
    )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    settings = Settings(home=tmp_path)
    registry = ModelRegistry.from_settings(settings)
    registry.register(b"1", meta("xgb-1"))
    registry.register(b"2", meta("xgb-2"))
    registry.register(b"3", meta("xgb-3", feature_set="fs-old"))
    return settings


def run(settings: Settings, *args: str) -> str:
    result = CliRunner().invoke(model, list(args), obj=settings)
    assert result.exit_code == 0, result.output
    return result.output


def test_list_marks_the_champion_and_stale_feature_sets(settings: Settings) -> None:
    run(settings, "promote", "xgb-2")
    lines = run(settings, "list").splitlines()
    assert len(lines) == 4
    assert lines[2].startswith("* xgb-2") and "0.6123" in lines[2] and "0.298%" in lines[2]
    assert lines[1].startswith("  xgb-1")
    assert "fs-old (not current)" in lines[3]


def test_list_on_an_empty_registry_says_how_to_fill_it(tmp_path: Path) -> None:
    assert "fraudguard train" in run(Settings(home=tmp_path), "list")


def test_show_prints_the_metadata(settings: Settings) -> None:
    result = CliRunner().invoke(model, ["show", "xgb-1"], obj=settings)
    shown = json.loads(result.stdout)
    assert shown["version"] == "xgb-1" and shown["scale_pos_weight"] == 5.0


def test_promote_then_rollback_move_the_champion_the_job_follows(settings: Settings) -> None:
    registry = ModelRegistry.from_settings(settings)
    assert run(settings, "promote", "xgb-1").strip() == "champion: xgb-1 (was none)"
    assert run(settings, "promote", "xgb-2").strip() == "champion: xgb-2 (was xgb-1)"
    assert registry.pointer().champion == "xgb-2"
    assert run(settings, "promote", "xgb-2").strip() == "champion: xgb-2 (unchanged)"
    assert [entry.version for entry in registry.pointer().history] == ["xgb-1"]
    assert run(settings, "rollback").strip() == "champion: xgb-1 (was xgb-2)"
    assert registry.pointer().champion == "xgb-1"


def test_promoting_a_model_of_another_feature_set_fails_with_both_versions(
    settings: Settings,
) -> None:
    result = CliRunner().invoke(model, ["promote", "xgb-3"], obj=settings)
    assert isinstance(result.exception, ModelError)
    message = str(result.exception)
    assert "fs-old" in message and FEATURE_SET_VERSION in message
    assert ModelRegistry.from_settings(settings).pointer().champion is None


def test_rollback_without_history_fails(settings: Settings) -> None:
    result = CliRunner().invoke(model, ["rollback"], obj=settings)
    assert isinstance(result.exception, ModelError)


def test_a_challenger_is_set_listed_and_cleared(settings: Settings) -> None:
    runner = CliRunner()
    assert runner.invoke(model, ["promote", "xgb-1"], obj=settings).exit_code == 0
    result = runner.invoke(model, ["challenger", "xgb-2"], obj=settings)
    assert result.exit_code == 0 and "challenger: xgb-2 (was none)" in result.output
    listed = runner.invoke(model, ["list"], obj=settings).output
    assert "* xgb-1" in listed and "~ xgb-2" in listed
    refused = runner.invoke(model, ["challenger", "xgb-3"], obj=settings)
    assert isinstance(refused.exception, ModelError) and "fs-old" in str(refused.exception)
    assert runner.invoke(model, ["challenger"], obj=settings).exit_code != 0  # neither
    cleared = runner.invoke(model, ["challenger", "--clear"], obj=settings)
    assert "challenger: none (was xgb-2)" in cleared.output
