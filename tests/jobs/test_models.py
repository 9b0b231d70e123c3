"""Promote and rollback switch the model the running job scores with, within seconds."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from fraudguard.config import Settings
from fraudguard.generator import GeneratorConfig, PaymentStream, produce_to_kafka
from fraudguard.jobrunner import JobRunner
from fraudguard.kafka_io import assigned_consumer
from fraudguard.models.registry import ModelRegistry

pytestmark = pytest.mark.integration


def test_promote_and_rollback_switch_the_model_of_the_running_job(
    isolated_settings: Settings, tmp_path: Path, register_model: Callable[..., None]
) -> None:

    settings = isolated_settings.model_copy(update={"models_root": tmp_path / "models"})
    registry = ModelRegistry.from_settings(settings)
    first, second = f"m-a-{uuid.uuid4().hex[:6]}", f"m-b-{uuid.uuid4().hex[:6]}"
    register_model(registry, first, seed=1)
    register_model(registry, second, seed=2)
    registry.promote(first)

    consumer = assigned_consumer(settings, settings.topics.decisions.name, "read_uncommitted")
    versions_seen: dict[str, float] = {}
    records: list[dict] = []

    def pay_until(version: str, timeout_s: float) -> float:
        """Send payments until a decision is made by ``version``; seconds it took."""
        started = time.monotonic()
        while time.monotonic() - started < timeout_s:
            config = GeneratorConfig(seed=int(time.time()), cards=300, merchants=60, days=0.2,
                                     txn_id_prefix=f"x{uuid.uuid4().hex[:6]}-")  # fmt: skip
            produce_to_kafka(settings, PaymentStream(config.ending_at(int(time.time() * 1000))),
                             limit=40, labels=False)  # fmt: skip
            for msg in consumer.consume(num_messages=5000, timeout=0.5):
                if not msg.error():
                    record = orjson.loads(msg.value())
                    records.append(record)
                    versions_seen.setdefault(record["model_version"], time.monotonic())
            if version in versions_seen and versions_seen[version] >= started:
                return versions_seen[version] - started
        raise AssertionError(f"no decision by {version} within {timeout_s} s: {versions_seen}")

    runner = JobRunner(settings)
    runner.start(detached=True, fresh=True)
    try:
        runner.wait_running(timeout_s=120)
        pay_until(first, timeout_s=60)
        registry.promote(second)
        promoted_s = pay_until(second, timeout_s=30)
        versions_seen.pop(first)
        registry.rollback()
        rolled_back_s = pay_until(first, timeout_s=30)
    finally:
        runner.stop()
        consumer.close()
    print(f"promote took {promoted_s:.1f} s, rollback {rolled_back_s:.1f} s to reach decisions")
    assert promoted_s <= 10 and rolled_back_s <= 10
    scored = [r for r in records if r["model_version"] in (first, second)]
    assert scored and not any(r["degraded"] for r in scored)
    assert all(0.0 <= r["score"] <= 1.0 for r in scored)
