"""Threshold tiers published on the control topic reach the running job without a restart."""

from __future__ import annotations

import time
import uuid

import orjson
import pytest

from fraudguard.config import Settings
from fraudguard.control.changes import publish_tiers
from fraudguard.decision import tiers_from_dict
from fraudguard.generator import GeneratorConfig, PaymentStream, produce_to_kafka
from fraudguard.ops.jobrunner import JobRunner
from fraudguard.streams.kafka import assigned_consumer

pytestmark = pytest.mark.integration


def produce_live(settings: Settings, count: int, seed: int) -> str:
    prefix = f"c{uuid.uuid4().hex[:6]}-"
    config = GeneratorConfig(seed=seed, cards=800, merchants=100, days=1.5, txn_id_prefix=prefix)
    report = produce_to_kafka(
        settings, PaymentStream(config.ending_at(int(time.time() * 1000))), limit=count,
        labels=False,
    )  # fmt: skip
    assert report.transactions == count
    return prefix


def test_a_threshold_change_reaches_the_running_job_within_seconds(
    isolated_settings: Settings,
) -> None:
    settings = isolated_settings
    consumer = assigned_consumer(settings, settings.topics.decisions.name, "read_uncommitted")
    seen: dict[str, dict] = {}
    first_at: dict[str, float] = {}

    def read(prefix: str, count: int, timeout_s: float) -> list[dict]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for msg in consumer.consume(num_messages=5000, timeout=0.2):
                if msg.error():
                    continue
                record = orjson.loads(msg.value())
                seen[record["txn_id"]] = record
                first_at.setdefault(record["threshold_version"], time.monotonic())
            mine = [r for t, r in seen.items() if t.startswith(prefix)]
            if len(mine) >= count:
                return mine
        raise AssertionError(f"only {sum(t.startswith(prefix) for t in seen)} of {count}")

    runner = JobRunner(settings)
    runner.start(detached=True, fresh=True)
    try:
        runner.wait_running(timeout_s=120)
        before = read(produce_live(settings, 500, seed=1), 500, timeout_s=120)
        assert {r["threshold_version"] for r in before} == {"builtin-v1"}
        assert {r["decision"] for r in before} != {"block"}

        strict = tiers_from_dict({"version": f"strict-{uuid.uuid4().hex[:6]}", "review": 0.005,
                                  "block": 0.01})  # fmt: skip
        published_at = time.monotonic()
        publish_tiers(settings, strict)
        # Keep paying while the change travels; every decision after it is a block.
        deadline = time.monotonic() + 30
        while strict.version not in first_at and time.monotonic() < deadline:
            read(produce_live(settings, 50, seed=2), 50, timeout_s=30)
        assert strict.version in first_at, "the change never reached the job"
        reached_s = first_at[strict.version] - published_at
        after = read(produce_live(settings, 300, seed=3), 300, timeout_s=60)
    finally:
        runner.stop()
        consumer.close()
    print(f"new thresholds in decisions {reached_s:.1f} s after publishing")
    assert reached_s <= 10
    assert {r["threshold_version"] for r in after} == {strict.version}
    # Exploration (on by default) may release a few: everything else is blocked.
    assert {r["decision"] for r in after if not r["explored"]} == {"block"}


def test_exploration_releases_a_capped_share_of_stopped_payments(
    isolated_settings: Settings,
) -> None:
    from collections import Counter

    from fraudguard.config import ExplorationSettings
    from fraudguard.decision.exploration import draw

    policy = ExplorationSettings(share=0.2, seed=11, max_count_per_window=15, window_ms=3_600_000)
    settings = isolated_settings.model_copy(update={"exploration": policy})
    strict = tiers_from_dict({"version": f"all-{uuid.uuid4().hex[:6]}", "review": 0.005,
                              "block": 0.01})  # fmt: skip
    publish_tiers(settings, strict)  # before the job starts: read from the topic's beginning
    prefix = produce_live(settings, 1500, seed=4)
    runner = JobRunner(settings)
    runner.start(detached=True, fresh=True)
    records: dict[str, dict] = {}
    try:
        runner.wait_running(timeout_s=180)
        consumer = assigned_consumer(settings, settings.topics.decisions.name)
        deadline = time.monotonic() + 180
        while len(records) < 1500 and time.monotonic() < deadline:
            for msg in consumer.consume(num_messages=5000, timeout=0.5):
                if not msg.error():
                    record = orjson.loads(msg.value())
                    assert record["txn_id"] not in records, "a second decision"
                    records[record["txn_id"]] = record
        consumer.close()
    finally:
        runner.stop()
    assert len(records) == 1500 and all(t.startswith(prefix) for t in records)
    released = [r for r in records.values() if r["explored"]]
    assert released and all(r["decision"] == "approve" for r in released)
    assert {r["propensity"] for r in released} == {0.2}
    # Every release is the seeded draw; no window holds more than the cap.
    assert all(draw(11, r["txn_id"]) < 0.2 for r in released)
    per_hour = Counter(r["event_time"][:13] for r in released)
    assert max(per_hour.values()) <= 15
    kept = [r for r in records.values() if not r["explored"]]
    assert {r["decision"] for r in kept} == {"block"}
    assert {r["propensity"] for r in kept} <= {0.8, 1.0}
