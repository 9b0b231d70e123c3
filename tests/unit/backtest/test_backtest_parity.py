"""The backtest decides as the job's own code does, row by row: features from the kernel
(``build_features`` in arrival order), base scores from the JVM scorer (``ScoreRows``),
decisions from ``Decider`` and the exploration step; field by field, on a generated stream."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import xgboost as xgb

from fraudguard.backtest import run_backtest
from fraudguard.config import ExplorationSettings, Settings
from fraudguard.decision import Override, ThresholdTiers
from fraudguard.decision.decider import Decider
from fraudguard.decision.exploration import ExplorationPolicy
from fraudguard.features import FEATURE_NAMES, build_features
from fraudguard.features.jvm import run_kernel_main
from fraudguard.generator import GeneratorConfig, PaymentStream
from fraudguard.generator.sinks import write_files
from fraudguard.models.metadata import ModelMetadata
from fraudguard.models.registry import TREES_FILE, ModelRegistry, serving_layout
from fraudguard.models.trees import compile_booster
from fraudguard.wire.transactions import parse_event_time

TIERS = ThresholdTiers(
    "bt-1", review=0.3, block=0.7,
    overrides=(Override("web", review=0.2, block=0.6, channel="online"),),
)  # fmt: skip
EXPLORATION = ExplorationSettings(
    share=0.2, seed=5, max_count_per_window=3, max_amount_eur_per_window=2000.0,
    window_ms=3_600_000,
)  # fmt: skip


def register(root: Path, X: np.ndarray, y: np.ndarray, seed: int) -> str:
    params = {"nthread": 1, "objective": "binary:logistic", "max_depth": 4, "seed": seed}
    booster = xgb.train(params, xgb.DMatrix(X, label=y, feature_names=list(FEATURE_NAMES)), 30)
    registry = ModelRegistry(root)
    version = f"m{len(registry.entries())}"
    metadata = ModelMetadata(
        version=version, created_at="2026-12-04T00:00:00Z", framework="xgboost",
        feature_set_version="fs-test", feature_names=list(FEATURE_NAMES), scale_pos_weight=1.0,
        code_version="test",
    )  # fmt: skip
    compiled = compile_booster(booster)
    registry.register(b"model", metadata, attach=lambda d: (d / TREES_FILE).write_bytes(compiled))
    registry.promote(version, feature_set_version="fs-test")
    return version


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Settings, list, str]:
    folder = tmp_path_factory.mktemp("backtest")
    stream = PaymentStream(GeneratorConfig(seed=21, cards=500, merchants=120, days=4,
                                           fraud_rate=0.02))  # fmt: skip
    write_files(stream, folder / "transactions.jsonl", folder / "labels.jsonl")
    txns = list(PaymentStream(stream.config).transactions())
    settings = Settings(models_root=folder / "models", exploration=EXPLORATION)
    rows = list(build_features(txns, settings.flink.dedupe_ttl_ms, settings, arrival_order=True))
    X = np.array([[f[n] for n in FEATURE_NAMES] for _, f in rows])
    rng = np.random.default_rng(3)
    y = (X[:, FEATURE_NAMES.index("txn_amount_eur")] > 150) ^ (rng.random(len(X)) < 0.2)
    register(folder / "models", X, y.astype(int), seed=1)
    version = register(folder / "models", X, (rng.random(len(X)) < 0.3).astype(int), seed=2)
    return folder, settings, rows, version


def expected_decisions(
    folder: Path, settings: Settings, rows: list, version: str, reranker=None, reranker_for=None
) -> dict:
    """The job's code path, row by row."""
    X = np.array([[f[n] for n in FEATURE_NAMES] for _, f in rows], dtype="<f8")
    X.tofile(folder / "rows.f64")
    (folder / "names.json").write_text(json.dumps(list(FEATURE_NAMES)))
    args = [str(settings.models_dir), json.dumps(serving_layout()), str(folder / "names.json"),
            str(folder / "rows.f64"), str(folder / "scores.f64")]  # fmt: skip
    served = run_kernel_main(settings, "io.fraudguard.tools.ScoreRows", args)
    assert served["version"] == version
    scores = np.fromfile(folder / "scores.f64", dtype="<f8")
    decider, policy = Decider(), ExplorationPolicy(**EXPLORATION.model_dump())
    state = policy.new_state()
    records = {}
    for (txn, features), score in zip(rows, scores.tolist(), strict=True):
        assert txn.ts_ms == parse_event_time(txn.event_time)  # what the JVM reads from the file
        record = decider.decide(txn, features, 0, False, TIERS, reranker, reranker_for,
                                (score, version))  # fmt: skip
        if record.decision != "approve":  # the job's ExploreStopped
            outcome = policy.apply(state, record.decision, record.txn_id, txn.ts_ms,
                                   features["txn_amount_eur"])  # fmt: skip
            record = replace(record, decision=outcome.decision, explored=outcome.explored,
                             propensity=outcome.propensity)  # fmt: skip
        records[txn.txn_id] = record
    return records


FIELDS = ("decision", "score", "base_score", "tier", "explored", "propensity", "model_version",
          "threshold_version", "late", "degraded", "card_id", "event_time", "merchant_id",
          "amount", "currency", "mcc", "country", "channel", "reranker_version",
          "feature_version", "challenger_version", "challenger_score")  # fmt: skip


def test_backtest_decisions_equal_the_jobs_code_path_field_by_field(history, tmp_path) -> None:
    folder, settings, rows, version = history
    summary = run_backtest(folder / "transactions.jsonl", tmp_path, settings, tiers=TIERS,
                           batch_rows=997)  # fmt: skip
    got = pq.read_table(tmp_path / "decisions.parquet").to_pylist()
    expected = expected_decisions(folder, settings, rows, version)
    assert [r["txn_id"] for r in got] == list(expected)
    for row in got:
        record = expected[row["txn_id"]]
        assert {f: row[f] for f in FIELDS} == {f: getattr(record, f) for f in FIELDS}
        assert row["features"] == dict(record.features)
    decisions = summary["baseline"]["decisions"]
    assert len(rows) > 3000 and decisions.get("review") and decisions.get("block")
    assert 0 < summary["baseline"]["explored"] < decisions["review"] + decisions["block"]
    assert {r["tier"] for r in got} == {"default", "web"}


def test_a_compared_model_decides_as_a_backtest_of_that_model_alone(history, tmp_path) -> None:
    folder, settings, _, champion = history
    summary = run_backtest(folder / "transactions.jsonl", tmp_path / "both", settings,
                           tiers=TIERS, compare_model="m0")  # fmt: skip
    run_backtest(folder / "transactions.jsonl", tmp_path / "alone", settings, model="m0",
                 tiers=TIERS)  # fmt: skip
    compared = pq.read_table(tmp_path / "both" / "compare" / "decisions.parquet")
    alone = pq.read_table(tmp_path / "alone" / "decisions.parquet")
    assert compared.equals(alone)
    assert summary["baseline"]["model_version"] == champion
    assert summary["compare"]["model_version"] == "m0"


def test_a_reranker_snapshot_rescores_as_the_job_does(history, tmp_path) -> None:
    from fraudguard.control.reranker_message import RerankerChange
    from fraudguard.reranker.model import Reranker

    folder, settings, rows, version = history
    learnt = Reranker()
    # mid scores turn out fraud: the snapshot lifts them, so decisions move
    learnt.learn_batch([(0.25, {}, True)] * 300)
    change = RerankerChange(learnt.snapshot(), base_model_version=version)
    summary = run_backtest(folder / "transactions.jsonl", tmp_path, settings, tiers=TIERS,
                           reranker=change, batch_rows=997)  # fmt: skip
    got = pq.read_table(tmp_path / "decisions.parquet").to_pylist()
    expected = expected_decisions(folder, settings, rows, version,
                                  change.snapshot.restore(), version)  # fmt: skip
    for row in got:
        record = expected[row["txn_id"]]
        assert {f: row[f] for f in FIELDS} == {f: getattr(record, f) for f in FIELDS}
    assert summary["baseline"]["reranker_version"] == learnt.version
    assert {r["reranker_version"] for r in got} == {learnt.version}
    assert any(r["score"] != r["base_score"] for r in got)


def test_a_shadow_challenger_is_recorded_and_changes_no_decision(history, tmp_path) -> None:
    folder, settings, _, champion = history
    alone = run_backtest(folder / "transactions.jsonl", tmp_path / "alone", settings,
                         tiers=TIERS, challenger=None)  # fmt: skip
    shadowed = run_backtest(folder / "transactions.jsonl", tmp_path / "shadow", settings,
                            tiers=TIERS, challenger="m0")  # fmt: skip
    m0 = run_backtest(folder / "transactions.jsonl", tmp_path / "m0", settings, model="m0",
                      tiers=TIERS, challenger=None)  # fmt: skip
    assert m0["baseline"]["model_version"] == "m0"
    assert shadowed["baseline"]["challenger_version"] == "m0"
    assert alone["baseline"]["decisions"] == shadowed["baseline"]["decisions"]
    with_shadow = pq.read_table(tmp_path / "shadow" / "decisions.parquet")
    without = pq.read_table(tmp_path / "alone" / "decisions.parquet")
    fields = [c for c in without.column_names if not c.startswith("challenger_")]
    assert with_shadow.select(fields).equals(without.select(fields))
    scored_alone = pq.read_table(tmp_path / "m0" / "decisions.parquet")["base_score"]
    assert with_shadow["challenger_score"].equals(scored_alone)
    assert set(with_shadow["challenger_version"].to_pylist()) == {"m0"}
    assert set(without["challenger_version"].to_pylist()) == {None}
    assert shadowed["baseline"]["model_version"] == champion


def test_a_label_reported_after_the_cut_off_is_not_used(history, tmp_path) -> None:
    folder, settings, _, _ = history
    labels = [json.loads(line) for line in (folder / "labels.jsonl").read_text().splitlines()]
    reported = sorted(parse_event_time(row["reported_at"]) for row in labels)
    cutoff = reported[len(reported) // 2]
    summary = run_backtest(folder / "transactions.jsonl", tmp_path, settings, tiers=TIERS,
                           labels=folder / "labels.jsonl", labels_known_at_ms=cutoff)  # fmt: skip
    table = pq.read_table(tmp_path / "decisions.parquet", columns=["label", "label_reported_ms"])
    for label, at in zip(*(table[c].to_pylist() for c in table.column_names), strict=True):
        if at is not None:
            assert (label is not None) == (at <= cutoff)
    known = sum(summary["baseline"]["labels_known"].values())
    assert known == sum(1 for at in reported if at <= cutoff) > 0
    assert summary["baseline"]["labels_immature"] == len(reported) - known > 0


def test_a_period_decides_only_its_transactions_with_the_states_of_the_whole_history(
    history, tmp_path
) -> None:
    folder, settings, rows, _ = history
    start = rows[len(rows) // 2][0].ts_ms
    run_backtest(folder / "transactions.jsonl", tmp_path / "all", settings, tiers=TIERS)
    run_backtest(folder / "transactions.jsonl", tmp_path / "half", settings, tiers=TIERS,
                 from_ms=start)  # fmt: skip
    whole = pq.read_table(tmp_path / "all" / "decisions.parquet")
    half = pq.read_table(tmp_path / "half" / "decisions.parquet")
    later = whole.filter(whole["ts_ms"].to_numpy() >= start)
    assert half["txn_id"].to_pylist() == later["txn_id"].to_pylist()
    assert half["features"].to_pylist() == later["features"].to_pylist()
    assert half["score"].to_pylist() == later["score"].to_pylist()


def test_fraud_labels_feed_the_backtests_features_as_they_feed_build_features(
    labelled_stream, tmp_path
) -> None:
    source, labels = labelled_stream.write(tmp_path)
    settings = Settings(models_root=tmp_path / "models")
    summary = run_backtest(source, tmp_path / "out", settings, model="rules", labels=labels,
                           challenger=None, batch_rows=97)  # fmt: skip
    txns = labelled_stream.transactions
    expected = list(build_features(txns, settings.flink.dedupe_ttl_ms, settings,
                                   labels=labelled_stream.labels))  # fmt: skip
    got = pq.read_table(tmp_path / "out" / "decisions.parquet", columns=["txn_id", "features"])
    assert got["txn_id"].to_pylist() == [txn.txn_id for txn, _ in expected]
    assert got["features"].to_pylist() == [features for _, features in expected]
    assert any(f["card_confirmed_fraud"] > 0 for f in got["features"].to_pylist())
    after = sum(x.reported_ms >= txns[-1].ts_ms for x in labelled_stream.labels)
    assert summary["feature_labels"] == {
        "fed": len(labelled_stream.labels) - after,
        "unused": {"after_last": after, "legit": 1, "no_entities": 1},
    }
