"""The Models page: the registry, the champion and its history, the re-ranker snapshots with
their guard figures; promotion and rollback by admins with a reason, through
:mod:`fraudguard.control.changes` (the CLI's own path), audited."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from fraudguard.config import Settings
from fraudguard.control import changes
from fraudguard.errors import ModelNotFound
from fraudguard.features import FEATURE_SET_VERSION
from fraudguard.models.registry import ModelRegistry
from fraudguard.panel.audit import Actor, record

PR_CURVE = "pr_curve.png"


def registry_view(settings: Settings) -> dict[str, Any]:
    """Every model with what a fraud team compares them by, newest first, and the champion."""
    registry = ModelRegistry.from_settings(settings)
    pointer = registry.pointer()
    models = []
    for entry in sorted(registry.entries(), key=lambda e: e.metadata.created_at, reverse=True):
        meta = entry.metadata
        test = meta.metrics.get("test", {})
        models.append(
            {
                "version": meta.version,
                "created_at": meta.created_at,
                "feature_set_version": meta.feature_set_version,
                "servable": meta.feature_set_version == FEATURE_SET_VERSION,
                "scale_pos_weight": meta.scale_pos_weight,
                "training_data_hash": meta.training_data.get("fingerprint"),
                "rows": meta.training_data.get("rows"),
                "average_precision": test.get("average_precision"),
                "fraud_rate": test.get("fraud_rate"),
                "metrics": meta.metrics,
                "has_pr_curve": (entry.path / PR_CURVE).exists(),
                "champion": meta.version == pointer.champion,
            }
        )
    return {
        "champion": pointer.champion,
        "promoted_at": pointer.promoted_at,
        "history": [h.model_dump() for h in pointer.history],
        "models": models,
    }


def pr_curve(settings: Settings, version: str) -> Path:
    """The PR-curve image of a registered model."""
    entry = ModelRegistry.from_settings(settings).get(version)
    path = entry.path / PR_CURVE
    if not path.exists():
        raise ModelNotFound(f"model {version} has no PR curve")
    return path


def rerankers_view(settings: Settings) -> list[dict[str, Any]]:
    """Every published re-ranker snapshot, newest first, with its guard figures."""
    published = changes.published_rerankers(settings)
    return [
        {
            "version": c.snapshot.version,
            "created_at_ms": c.snapshot.created_at_ms,
            "labels_learnt": c.snapshot.n_updates,
            "base_model_version": c.base_model_version,
            "metrics": dict(c.snapshot.metrics),
            "in_force": i == len(published) - 1,
        }
        for i, c in reversed(list(enumerate(published)))
    ]


def promote(
    engine: Engine, settings: Settings, actor: Actor, version: str, reason: str
) -> dict[str, Any]:
    done = changes.promote_model(settings, version)
    with engine.begin() as conn:
        record(
            conn,
            actor,
            "model.promote",
            f"model {version}",
            before={"champion": done.before},
            after={"champion": done.after, "reason": reason},
        )
    return {"champion": done.after, "was": done.before}


def roll_back(engine: Engine, settings: Settings, actor: Actor, reason: str) -> dict[str, Any]:
    done = changes.roll_back_model(settings)
    with engine.begin() as conn:
        record(
            conn,
            actor,
            "model.rollback",
            f"model {done.after}",
            before={"champion": done.before},
            after={"champion": done.after, "reason": reason},
        )
    return {"champion": done.after, "was": done.before}


def roll_back_reranker(
    engine: Engine, settings: Settings, actor: Actor, to: str | None, reason: str
) -> dict[str, Any]:
    before = changes.published_rerankers(settings)
    snapshot = changes.roll_back_reranker(settings, to)
    with engine.begin() as conn:
        record(
            conn,
            actor,
            "reranker.rollback",
            f"re-ranker {snapshot.version}",
            before={"version": before[-1].snapshot.version if before else None},
            after={"version": snapshot.version, "reason": reason},
        )
    return {"version": snapshot.version}
