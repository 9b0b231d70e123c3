"""A training result into the model registry, with its report beside the model."""

from __future__ import annotations

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


def register_result(
    registry: ModelRegistry,
    result: TrainingResult,
    sources: dict[str, Any],
    project_root: Path,
    now: datetime | None = None,
) -> ModelEntry:
    """Register the trained booster with its metadata, ``report.json``, ``report.md`` and
    ``pr_curve.png``; ``sources`` says where the data came from (file paths, label cut-off)."""
    model = bytes(result.booster.save_raw("ubj"))
    created = (now or datetime.now(UTC)).astimezone(UTC)
    version = model_version(model, created)
    created_at = created.isoformat(timespec="seconds").replace("+00:00", "Z")
    code = code_version(project_root)
    header = {
        "version": version,
        "created_at": created_at,
        "code_version": code,
        "sources": sources,
    }
    report = report_dict(result, header)
    metadata = ModelMetadata(
        version=version,
        created_at=created_at,
        framework=f"xgboost {xgb.__version__}",
        feature_set_version=result.data["feature_set_version"],
        feature_names=list(result.booster.feature_names or []),
        scale_pos_weight=result.weight,
        params={**report["params"], "rounds": report["rounds"]},
        metrics={
            name: {k: v for k, v in m.items() if k != "reliability"}
            for name, m in report["metrics"].items()
        },
        weights_tried=report["weight_search"]["trials"],
        training_data={**report["data"], "split": report["split"], "sources": sources},
        code_version=code,
    )

    def attach(folder: Path) -> None:
        write_report(result, folder, header)
        # What the job scores with: the same trees, without libxgboost (models.trees).
        (folder / TREES_FILE).write_bytes(compile_booster(result.booster))
        (folder / REFERENCE_FILE).write_bytes(orjson.dumps(result.reference))

    return registry.register(model, metadata, attach=attach)
