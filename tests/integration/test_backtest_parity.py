"""The offline backtest against the live job, on the real stack: 50,000 generated
transactions through the PyFlink job (a promoted model scoring, exploration on) and through
``fraudguard backtest`` over the same events, with a shadow challenger beside the champion;
every decision equal, field by field, bit for bit (all but ``decided_at_ms``, the job's wall
clock)."""

from __future__ import annotations

import math
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest
from tests.integration.test_features_job import DecisionReader, generated

from fraudguard.backtest import run_backtest
from fraudguard.config import Settings
from fraudguard.control.changes import publish_tiers
from fraudguard.decision import tiers_from_dict
from fraudguard.generator import PaymentStream
from fraudguard.generator.sinks import write_files
from fraudguard.models.registry import ModelRegistry
from fraudguard.ops.jobrunner import JobRunner

pytestmark = pytest.mark.integration

COMPARED = (
    "card_id",
    "event_time",
    "decision",
    "score",
    "model_version",
    "threshold_version",
    "features",
    "feature_version",
    "base_score",
    "reranker_version",
    "tier",
    "explored",
    "propensity",
    "degraded",
    "late",
    "merchant_id",
    "amount",
    "currency",
    "mcc",
    "country",
    "channel",
    "challenger_version",
    "challenger_score",
)
"""Every field of a decision record but ``decided_at_ms`` (the job's wall clock)."""


def differences(live: dict[str, Any], offline: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    found = {}
    for name in COMPARED:
        a, b = live.get(name), offline.get(name)
        same = a == b or (
            isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)
        )
        if not same:
            found[name] = (a, b)
    return found


def test_the_backtest_decides_50k_transactions_exactly_as_the_live_job(
    isolated_settings: Settings, tmp_path: Path, register_model: Any
) -> None:
    settings, count = isolated_settings, 50_000
    registry = ModelRegistry.from_settings(settings)
    version = f"m-bt-{uuid.uuid4().hex[:6]}"
    register_model(registry, version, 4)
    registry.promote(version)
    # A shadow challenger beside it: recorded in every decision, deciding none of them.
    register_model(registry, f"{version}-shadow", 5)
    registry.set_challenger(f"{version}-shadow")
    assert settings.exploration.share > 0  # the exploration step is part of what is compared
    config = generated(settings, count, cards=4000, days=7.5)
    source = tmp_path / "transactions.jsonl"
    written = write_files(PaymentStream(config), source, with_labels=False, limit=count)
    assert written.transactions == count
    # Tiers at the 90th and 99th percentiles of this model's scores, so the stream has
    # approvals, reviews, blocks and exploration releases; published before the job starts, it
    # reads them from the control topic's beginning, before its first decision.
    first = run_backtest(source, tmp_path / "scores", settings)
    scores = pq.read_table(tmp_path / "scores" / "decisions.parquet", columns=["score"])
    review, block = np.quantile(scores.column("score").to_numpy(), [0.90, 0.99])
    tiers = tiers_from_dict(
        {
            "version": f"parity-{uuid.uuid4().hex[:6]}",
            "review": float(review),
            "block": float(max(block, review + 1e-6)),
        }
    )
    assert first["baseline"]["model_version"] == version
    publish_tiers(settings, tiers)
    summary = run_backtest(source, tmp_path / "backtest", settings, tiers=tiers)
    runner = JobRunner(settings)
    reader = DecisionReader(settings)
    runner.start(detached=True, fresh=True)
    try:
        runner.wait_running(timeout_s=180)
        reader.wait_for(count, timeout_s=400)
    finally:
        runner.stop()
        reader.close()
    offline = {
        r["txn_id"]: r
        for r in pq.read_table(tmp_path / "backtest" / "decisions.parquet").to_pylist()
    }
    assert summary["baseline"]["model_version"] == version
    assert len(offline) == count and reader.duplicates == 0
    assert set(reader.records) == set(offline), "the job and the backtest decided other ids"
    wrong = {}
    for txn_id, live in reader.records.items():
        found = differences(live, offline[txn_id])
        if found:
            wrong[txn_id] = found
    assert not wrong, f"{len(wrong)} decisions differ, e.g. {list(wrong.items())[:3]}"
    assert {r["challenger_version"] for r in offline.values()} == {f"{version}-shadow"}
    decided = {r["decision"] for r in offline.values()}
    assert len(decided) >= 2, "a stream that tests nothing: every decision the same"
