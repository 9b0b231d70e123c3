"""Promote and rollback switch the model the running job scores with, within seconds."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fraudguard.config import Settings
from fraudguard.jobrunner import JobRunner
from fraudguard.models.registry import ModelRegistry

pytestmark = pytest.mark.integration


def test_promote_and_rollback_switch_the_model_of_the_running_job(
    isolated_settings: Settings,
    tmp_path: Path,
    register_model: Callable[..., None],
    live_decisions: Callable[..., Any],
) -> None:

    settings = isolated_settings.model_copy(update={"models_root": tmp_path / "models"})
    registry = ModelRegistry.from_settings(settings)
    first, second = f"m-a-{uuid.uuid4().hex[:6]}", f"m-b-{uuid.uuid4().hex[:6]}"
    register_model(registry, first, seed=1)
    register_model(registry, second, seed=2)
    registry.promote(first)

    decisions = live_decisions(settings, "read_uncommitted")

    def pay_until(version: str, timeout_s: float) -> float:
        """Send payments until a decision is made by ``version``; seconds it took."""
        return decisions.pay_until(lambda r: r["model_version"] == version, timeout_s, 40)[0]

    runner = JobRunner(settings)
    runner.start(detached=True, fresh=True)
    try:
        runner.wait_running(timeout_s=120)
        pay_until(first, timeout_s=60)
        registry.promote(second)
        promoted_s = pay_until(second, timeout_s=30)
        registry.rollback()
        rolled_back_s = pay_until(first, timeout_s=30)
    finally:
        runner.stop()
        decisions.close()
    print(f"promote took {promoted_s:.1f} s, rollback {rolled_back_s:.1f} s to reach decisions")
    assert promoted_s <= 10 and rolled_back_s <= 10
    scored = [r for r in decisions.records if r["model_version"] in (first, second)]
    assert scored and not any(r["degraded"] for r in scored)
    assert all(0.0 <= r["score"] <= 1.0 for r in scored)
