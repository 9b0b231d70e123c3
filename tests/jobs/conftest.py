"""Helpers the job tests share: a small registered model the job can score with, and live
payments with the decisions they get."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any, Literal

import numpy as np
import orjson
import pytest

from fraudguard.config import Settings
from fraudguard.features import FEATURE_NAMES, FEATURE_SET_VERSION
from fraudguard.generator import GeneratorConfig, PaymentStream, produce_to_kafka
from fraudguard.kafka_io import assigned_consumer
from fraudguard.models.metadata import ModelMetadata
from fraudguard.models.registry import TREES_FILE, ModelRegistry

RegisterModel = Callable[[ModelRegistry, str, int], None]


def _register_model(registry: ModelRegistry, version: str, seed: int) -> None:
    """Register a 5-tree model trained on random features (scores vary with the seed)."""
    import xgboost as xgb

    from fraudguard.scoring.compiled import compile_booster

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(400, len(FEATURE_NAMES))).astype(np.float32)
    y = (X[:, seed % len(FEATURE_NAMES)] > 1).astype(int)
    booster = xgb.train({"nthread": 1, "objective": "binary:logistic", "max_depth": 3},
                        xgb.DMatrix(X, label=y, feature_names=list(FEATURE_NAMES)), 5)  # fmt: skip
    metadata = ModelMetadata(
        version=version, created_at="2026-11-25T00:00:00Z", framework=f"xgboost {xgb.__version__}",
        feature_set_version=FEATURE_SET_VERSION, feature_names=list(FEATURE_NAMES),
        scale_pos_weight=1.0, code_version="test",
    )  # fmt: skip
    trees = compile_booster(booster)  # what the job scores with
    registry.register(
        bytes(booster.save_raw("ubj")),
        metadata,
        attach=lambda d: (d / TREES_FILE).write_bytes(trees),
    )


@pytest.fixture
def register_model() -> RegisterModel:
    return _register_model


class LiveDecisions:
    """Payments stamped now, and every decision of the test's job read as it arrives."""

    def __init__(
        self,
        settings: Settings,
        isolation: Literal["read_committed", "read_uncommitted"] = "read_committed",
    ) -> None:
        self.settings = settings
        self.consumer = assigned_consumer(settings, settings.topics.decisions.name, isolation)
        self.records: list[dict[str, Any]] = []

    def pay(self, count: int) -> None:
        config = GeneratorConfig(seed=int(time.time()), cards=1_000, merchants=80, days=4.0,
                                 txn_id_prefix=f"r{uuid.uuid4().hex[:6]}-")  # fmt: skip
        stream = PaymentStream(config.ending_at(int(time.time() * 1000)))
        report = produce_to_kafka(self.settings, stream, limit=count, labels=False)
        assert report.transactions == count

    def read(self, timeout: float = 0.5) -> list[dict[str, Any]]:
        new = [
            orjson.loads(msg.value())
            for msg in self.consumer.consume(num_messages=10_000, timeout=timeout)
            if not msg.error()
        ]
        self.records.extend(new)
        return new

    def wait_for(self, count: int, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while len(self.records) < count and time.monotonic() < deadline:
            self.read()
        assert len(self.records) >= count, f"{len(self.records)} of {count} decisions"

    def pay_until(
        self, accept: Callable[[dict[str, Any]], bool], timeout_s: float = 30, batch: int = 20
    ) -> tuple[float, dict[str, Any]]:
        """Send payments until a decision read from now on satisfies ``accept``; seconds it
        took, and that decision."""
        started = time.monotonic()
        while time.monotonic() - started < timeout_s:
            self.pay(batch)
            for record in self.read(timeout=1.0):
                if accept(record):
                    return time.monotonic() - started, record
        raise AssertionError(f"no such decision within {timeout_s} s")

    def close(self) -> None:
        self.consumer.close()


@pytest.fixture
def live_decisions() -> type[LiveDecisions]:
    return LiveDecisions
