"""Shared fixtures. Integration tests run against the real local stack, started once per
session by the project's own code (the same `LocalStack` that `fraudguard stack up` uses)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from fraudguard.config import Settings
from fraudguard.features import FEATURE_NAMES, FEATURE_SET_VERSION
from fraudguard.features.online_store import OnlineFeatureReader
from fraudguard.models.metadata import ModelMetadata
from fraudguard.models.registry import TREES_FILE, ModelRegistry

# Before any test loads XGBoost or scikit-learn: spinning OpenMP threads make 2-thread training
# many times slower while the integration stack holds a core (see fraudguard.training).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

if TYPE_CHECKING:
    import pyarrow as pa

    from fraudguard.training.data import LabelledTable


@pytest.fixture(scope="session")
def stack_settings() -> Iterator[Settings]:
    """Settings of a running local stack (Kafka, Redis); starts it if needed. The job's jars are
    built, when stale, by the job runner that starts each test's job.

    The suite is an entry point: it honours ``FRAUDGUARD_*`` variables like the CLI does, so it
    can run beside another stack on other ports.
    """
    from fraudguard.stack import LocalStack

    settings = Settings.from_env(os.environ)
    LocalStack(settings).up()
    yield settings


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    # Fixtures see the outcome of their test here (isolated_settings keeps a failed job's log).
    report = yield
    if report.when == "call":
        item.stash[_CALL_FAILED] = report.failed
    return report


_CALL_FAILED = pytest.StashKey[bool]()


@pytest.fixture
def isolated_settings(
    stack_settings: Settings, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Settings]:
    """Stack settings with topics, a job name and a model registry of their own, so tests never
    see each other's records, checkpoints, consumer offsets, Kafka transactions, or a champion
    model someone promoted on this machine (the job scores with the rules unless a test
    promotes a model).

    Afterwards the topics, the feature-store keys and the job's checkpoints (tens of MB a job)
    go; the job's log stays only when the test failed, so repeated runs do not fill the disk.
    """
    from fraudguard.flink.environment import checkpoint_root
    from fraudguard.stack import create_topics, delete_topics

    suffix = uuid.uuid4().hex[:8]
    settings = stack_settings.isolated(f"t{suffix}", job_prefix="fraudguard-test")
    settings = settings.model_copy(update={"models_root": tmp_path / "models"})
    create_topics(settings)
    yield settings
    delete_topics(settings, [spec.name for spec in settings.topics.all()])  # best effort
    store = OnlineFeatureReader.from_settings(settings)
    try:
        store.clear()
    finally:
        store.client.close()
    shutil.rmtree(checkpoint_root(settings), ignore_errors=True)
    if not request.node.stash.get(_CALL_FAILED, True):
        (settings.logs_dir / f"{settings.flink.job_name}.log").unlink(missing_ok=True)
        shutil.rmtree(settings.logs_dir / "flink" / settings.flink.job_name, ignore_errors=True)


# Labelled history for training, registry and scoring tests: generated and featurised once per
# session (about 60,000 transactions, 1% fraud, 20 days; some 8 s).
HISTORY_CONFIG = {"seed": 4, "cards": 1500, "days": 20, "fraud_rate": 0.01}


@pytest.fixture(scope="session")
def history_tables() -> tuple[pa.Table, pa.Table]:
    """The feature table and the labels table of a generated stream."""
    from fraudguard.generator import GeneratorConfig
    from fraudguard.training.history import generated_tables

    return generated_tables(GeneratorConfig(**HISTORY_CONFIG))


@pytest.fixture(scope="session")
def history(history_tables: tuple[pa.Table, pa.Table]) -> LabelledTable:
    from fraudguard.training.data import fraud_ids, from_feature_table

    features, labels = history_tables
    return from_feature_table(features, fraud_ids(labels))


RegisterModel = Callable[[ModelRegistry, str, int], None]


def _register_model(registry: ModelRegistry, version: str, seed: int) -> None:
    """Register a 5-tree model trained on random features (scores vary with the seed)."""
    import xgboost as xgb

    from fraudguard.models.trees import compile_booster

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


def _shadow_stream(
    n: int, start_ms: int, champion: str, challenger: str, challenger_skill: float = 0.7,
    prefix: str = "g",
) -> tuple[list[bytes], list[bytes]]:
    """``n`` decision records of ``champion`` with ``challenger`` in the shadow, one every
    100 ms from ``start_ms``, as the job writes them, and a label for each fraud, reported a
    minute after its payment, as the labels topic carries them.

    The champion ranks the fraud (5%) with some skill, the challenger with
    ``challenger_skill`` (0: random, 1: perfect), its scores distributed as the champion's; a
    fifth of the decisions are explored at propensity 0.5; the built-in tiers decide.
    """
    import orjson

    from fraudguard.decision.tiers import AMOUNT_FEATURE
    from fraudguard.wire.decisions import DecisionRecord
    from fraudguard.wire.transactions import format_event_time

    rng = np.random.default_rng(7)
    fraud = rng.random(n) < 0.05
    base = np.clip(0.3 * fraud + 0.7 * rng.random(n), 0, 1)
    ranking = challenger_skill * fraud + (1 - challenger_skill) * rng.random(n)
    shadow = np.empty(n)
    shadow[np.argsort(ranking)] = np.sort(base)  # the same scores in another order
    explored = rng.random(n) < 0.2
    decisions, labels = [], []
    for i in range(n):
        ts_ms, txn_id = start_ms + i * 100, f"{prefix}{i:06d}"
        decided = "block" if base[i] >= 0.8 else "review" if base[i] >= 0.5 else "approve"
        record = DecisionRecord(
            txn_id, f"c{i % 97}", format_event_time(ts_ms), "approve" if explored[i] else decided,
            float(base[i]), champion, "builtin-v1", ts_ms, {AMOUNT_FEATURE: 20.0},
            base_score=float(base[i]), explored=bool(explored[i]),
            propensity=0.5 if explored[i] else 1.0, mcc="5411", channel="online",
            challenger_version=challenger, challenger_score=float(shadow[i]),
        )  # fmt: skip
        decisions.append(record.to_json())
        if fraud[i]:
            reported = format_event_time(ts_ms + 60_000)
            labels.append(orjson.dumps({"txn_id": txn_id, "label": "fraud", "source": "test",
                                        "reported_at": reported}))  # fmt: skip
    return decisions, labels


ShadowStream = Callable[..., tuple[list[bytes], list[bytes]]]


@pytest.fixture
def shadow_stream() -> ShadowStream:
    return _shadow_stream


def _send_labels(settings: Settings, labelled: Iterable[tuple[str, bool]]) -> None:
    """Investigation labels ``(txn_id, is_fraud)`` on the labels topic, as investigators send
    them (key = transaction id)."""
    import orjson

    from fraudguard.streams.kafka import make_producer

    producer = make_producer(settings)
    for txn_id, fraud in labelled:
        doc = {"txn_id": txn_id, "label": "fraud" if fraud else "legit", "source": "test"}
        producer.produce(settings.topics.labels.name, value=orjson.dumps(doc), key=txn_id)
    assert producer.flush(30) == 0


SendLabels = Callable[[Settings, Iterable[tuple[str, bool]]], None]


@pytest.fixture
def send_labels() -> SendLabels:
    return _send_labels
