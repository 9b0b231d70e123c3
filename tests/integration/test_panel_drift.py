"""Monitoring through the real job: payments whose amounts are scaled by 3 raise a drift alert
against the champion's training reference; the same payments unscaled raise none."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import numpy as np
import orjson
import pytest
import xgboost as xgb

from fraudguard.config import Settings
from fraudguard.features import FEATURE_NAMES, FEATURE_SET_VERSION
from fraudguard.generator import GeneratorConfig, PaymentStream, produce_to_kafka
from fraudguard.models.metadata import ModelMetadata
from fraudguard.models.registry import REFERENCE_FILE, TREES_FILE, ModelRegistry
from fraudguard.models.trees import compile_booster
from fraudguard.monitoring.drift import reference
from fraudguard.ops.jobrunner import JobRunner
from fraudguard.panel import monitoring
from fraudguard.panel.db import open_database
from fraudguard.panel.ingest import Ingester
from fraudguard.panel.store import DecisionStore
from fraudguard.wire.currency import to_eur

pytestmark = pytest.mark.integration
AMOUNT = FEATURE_NAMES.index("txn_amount_eur")
PAYMENTS = 1_500


def stream(seed: int, scale: float = 1.0) -> GeneratorConfig:
    return GeneratorConfig(
        seed=seed,
        cards=1_000,
        merchants=80,
        days=4.0,
        amount_scale=scale,
        txn_id_prefix=f"d{uuid.uuid4().hex[:6]}-",
    )


def amount_model(registry: ModelRegistry, versions: list[str]) -> None:
    """Models that read the amount only, each with the reference of an unscaled stream."""
    amounts = np.array(
        [to_eur(t.amount, t.currency) for t in PaymentStream(stream(seed=99)).transactions()]
    )
    rows = np.zeros((len(amounts), len(FEATURE_NAMES)), dtype=np.float32)
    rows[:, AMOUNT] = amounts
    booster = xgb.train(
        {"objective": "binary:logistic", "nthread": 1, "max_depth": 3},
        xgb.DMatrix(rows, label=amounts > 150, feature_names=list(FEATURE_NAMES)),
        10,
    )
    seen = reference(
        booster.predict(xgb.DMatrix(rows, feature_names=list(FEATURE_NAMES))),
        rows,
        list(FEATURE_NAMES),
        {"txn_amount_eur": 1.0},
    )
    trees = compile_booster(booster)
    for version in versions:
        metadata = ModelMetadata(
            version=version,
            created_at="2026-12-01T00:00:00Z",
            framework="xgboost",
            feature_set_version=FEATURE_SET_VERSION,
            feature_names=list(FEATURE_NAMES),
            scale_pos_weight=1.0,
            code_version="test",
        )

        def attach(folder: Path) -> None:
            (folder / TREES_FILE).write_bytes(trees)
            (folder / REFERENCE_FILE).write_bytes(orjson.dumps(seen))

        registry.register(bytes(booster.save_raw("ubj")), metadata, attach=attach)


def test_scaled_amounts_raise_a_drift_alert_and_unscaled_ones_none(
    isolated_settings: Settings, tmp_path: Path
) -> None:
    settings = isolated_settings.model_copy(update={"models_root": tmp_path / "models"})
    registry = ModelRegistry.from_settings(settings)
    amount_model(registry, ["m-plain", "m-next"])
    registry.promote("m-plain")
    store = DecisionStore(open_database(f"sqlite:///{tmp_path / 'panel.db'}"))

    def pay_and_ingest(config: GeneratorConfig, version: str) -> None:
        report = produce_to_kafka(
            settings,
            PaymentStream(config.ending_at(int(time.time() * 1000))),
            limit=PAYMENTS,
            labels=False,
        )
        assert report.transactions == PAYMENTS
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            Ingester(settings, store).run(max_idle_s=2.0)
            with store.engine.connect() as conn:
                from sqlalchemy import func, select

                from fraudguard.panel import tables as t

                done = conn.execute(
                    select(func.count()).where(
                        t.decisions.c.txn_id.startswith(config.txn_id_prefix),
                        t.decisions.c.model_version == version,
                    )
                ).scalar_one()
            if done >= PAYMENTS * 0.95:
                return
        raise AssertionError(f"only {done} of {PAYMENTS} decisions by {version}")

    runner = JobRunner(settings)
    runner.start(detached=True, fresh=True)
    try:
        runner.wait_running(timeout_s=120)
        pay_and_ingest(stream(seed=1), "m-plain")
        calm = monitoring.alerts(store.engine, settings)
        registry.promote("m-next")
        time.sleep(3)  # the job reads the champion pointer every second
        pay_and_ingest(stream(seed=2, scale=3.0), "m-next")
        shifted = monitoring.alerts(store.engine, settings)
        view = monitoring.overview(store.engine, settings)
    finally:
        runner.stop()
    assert [a for a in calm if a["kind"] == "drift"] == [], calm
    subjects = {a["subject"] for a in shifted if a["kind"] == "drift"}
    assert "txn_amount_eur" in subjects, (shifted, monitoring.drift(store.engine, settings))
    assert {"m-plain", "m-next"} <= {m for hour in view["by_hour"] for m in hour["models"]}
