"""A trained booster into the model registry, with its report beside the model."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import xgboost as xgb

from fraudguard.models import ModelEntry, ModelMetadata, ModelRegistry, code_version, model_version
from fraudguard.models.registry import REFERENCE_FILE, TREES_FILE
from fraudguard.models.trees import compile_booster
from fraudguard.training.pipeline import TrainingResult
from fraudguard.training.report import report_dict, write_report


def register_booster(
    registry: ModelRegistry,
    model: xgb.Booster,
    describe: Callable[[dict[str, Any]], dict[str, Any]],
    write_files: Callable[[Path, dict[str, Any]], None],
    reference: dict[str, Any],
    project_root: Path,
    now: datetime | None = None,
) -> ModelEntry:
    """Register ``model`` with what the job scores (``trees.json``) and the drift reference.

    ``describe(header)`` gets the version, creation time and code version and returns the
    metadata's other fields; ``write_files(folder, header)`` writes the report into the model's
    folder before it becomes visible."""
    raw = bytes(model.save_raw("ubj"))
    created = (now or datetime.now(UTC)).astimezone(UTC)
    header: dict[str, Any] = {
        "version": model_version(raw, created),
        "created_at": created.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "code_version": code_version(project_root),
    }
    metadata = ModelMetadata(
        **header,
        framework=f"xgboost {xgb.__version__}",
        feature_names=list(model.feature_names or []),
        **describe(header),
    )

    def attach(folder: Path) -> None:
        write_files(folder, header)
        # What the job scores with: the same trees, without libxgboost (models.trees).
        (folder / TREES_FILE).write_bytes(compile_booster(model))
        (folder / REFERENCE_FILE).write_bytes(orjson.dumps(reference))

    return registry.register(raw, metadata, attach=attach)


def register_result(
    registry: ModelRegistry,
    result: TrainingResult,
    sources: dict[str, Any],
    project_root: Path,
    now: datetime | None = None,
) -> ModelEntry:
    """Register the trained booster with its metadata, ``report.json``, ``report.md`` and
    ``pr_curve.png``; ``sources`` says where the data came from (file paths, label cut-off)."""

    def describe(header: dict[str, Any]) -> dict[str, Any]:
        report = report_dict(result, {**header, "sources": sources})
        return {
            "feature_set_version": result.data["feature_set_version"],
            "scale_pos_weight": result.weight,
            "params": {**report["params"], "rounds": report["rounds"]},
            "metrics": {
                name: {k: v for k, v in m.items() if k != "reliability"}
                for name, m in report["metrics"].items()
            },
            "weights_tried": report["weight_search"]["trials"],
            "training_data": {**report["data"], "split": report["split"], "sources": sources},
        }

    def write_files(folder: Path, header: dict[str, Any]) -> None:
        write_report(result, folder, {**header, "sources": sources})

    return register_booster(
        registry, result.booster, describe, write_files, result.reference, project_root, now
    )
