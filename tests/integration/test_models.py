"""Promote and rollback switch the model the running job scores with, within seconds; a champion
the job cannot load leaves the model in force scoring."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fraudguard.config import Settings
from fraudguard.flink.feature_steps import CHAMPION_CHECK_MS
from fraudguard.models.registry import TREES_FILE, ModelRegistry
from fraudguard.ops.jobrunner import JobRunner

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
    broken = f"m-c-{uuid.uuid4().hex[:6]}"
    register_model(registry, first, seed=1)
    register_model(registry, second, seed=2)
    register_model(registry, broken, seed=3)
    (registry.get(broken).path / TREES_FILE).write_bytes(b"{}")
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
        registry.promote(broken)
        time.sleep(3 * CHAMPION_CHECK_MS / 1000)  # the job has read the pointer since
        decisions.read()
        before = len(decisions.records)
        decisions.pay(40)
        decisions.wait_for(before + 40, timeout_s=30)
    finally:
        runner.stop()
        decisions.close()
    print(f"promote took {promoted_s:.1f} s, rollback {rolled_back_s:.1f} s to reach decisions")
    assert promoted_s <= 10 and rolled_back_s <= 10
    after_broken = decisions.records[before:]
    assert after_broken[-1]["model_version"] == first
    assert not any(r["degraded"] or r["model_version"] == broken for r in after_broken)
    scored = [r for r in decisions.records if r["model_version"] in (first, second)]
    assert scored and not any(r["degraded"] for r in scored)
    assert all(0.0 <= r["score"] <= 1.0 for r in scored)
