"""Retraining from the decision log: which rows train, with which weights, and the naive
against the weighted model."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from fraudguard.backtest.decide import FEATURES_TYPE
from fraudguard.features import FEATURE_NAMES, FEATURE_SET_VERSION
from fraudguard.training import booster
from fraudguard.training.booster import BoosterParams
from fraudguard.training.retrain import (
    DAY_MS,
    BlockedPolicy,
    RetrainConfig,
    fit,
    retrain,
    select_rows,
    training_set,
)

EXACT = BoosterParams(n_estimators=15, subsample=1.0, colsample_bytree=1.0, nthread=1)


def log(n: int = 4_000, days: int = 20, seed: int = 3) -> tuple[pa.Table, set[str]]:
    """A decision log whose score is feature 0: high scores are stopped, a share of them
    explored; fraud is likelier with a high feature 0 and, among stopped payments, with a high
    feature 1 (what the stopped region teaches). Features are small integers, so binning is
    exact and a weight is the same as copies of a row."""
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 10, (n, len(FEATURE_NAMES))).astype(np.float64)
    stopped = X[:, 0] >= 7
    decision = np.where(stopped, np.where(X[:, 0] >= 9, "block", "review"), "approve")
    explored = stopped & (rng.random(n) < 0.2)
    decision = np.where(explored, "approve", decision)
    propensity = np.where(explored, 0.2, np.where(stopped, 0.8, 1.0))
    p_fraud = 0.01 + 0.05 * (X[:, 0] >= 5) + 0.3 * stopped * (X[:, 1] >= 5)
    fraud = rng.random(n) < p_fraud
    ids = [f"t{i:06d}" for i in range(n)]
    features = pa.StructArray.from_arrays(
        [pa.array(X[:, j]) for j in range(X.shape[1])], fields=list(FEATURES_TYPE)
    )
    table = pa.table({
        "txn_id": ids, "card_id": [f"c{i % 50}" for i in range(n)],
        "ts_ms": np.sort(rng.integers(0, days * DAY_MS, n)), "decision": decision,
        "explored": explored, "propensity": propensity, "features": features,
        "feature_version": [FEATURE_SET_VERSION] * n,
    })  # fmt: skip
    return table, {t for t, f in zip(ids, fraud, strict=True) if f}


def bank(table: pa.Table, frauds: set[str]) -> dict[str, tuple[str, int]]:
    """Labels as outcomes gives them, two days after each payment: approved fraud, and every
    review (no capacity here)."""
    labels = {}
    for txn, decision, ts in zip(*(table[c].to_pylist() for c in ("txn_id", "decision", "ts_ms")),
                                 strict=True):  # fmt: skip
        if decision == "review" or (decision == "approve" and txn in frauds):
            labels[txn] = ("fraud" if txn in frauds else "legit", ts + 2 * DAY_MS)
    return labels


def test_blocked_rows_never_train_unless_explored_and_immature_approvals_wait() -> None:
    table, frauds = log()
    cutoff, window = 20 * DAY_MS, 5 * DAY_MS
    rows = select_rows(table, bank(table, frauds), cutoff, window, BlockedPolicy.DROP)
    decision = np.array(table["decision"].to_pylist())
    explored = table["explored"].to_numpy()
    ts = table["ts_ms"].to_numpy()
    assert not rows.keep[decision == "block"].any()
    assert rows.keep[explored & (ts <= cutoff - window)].all()  # matured releases, labelled or not
    young = (decision == "approve") & ~explored & (ts > cutoff - 2 * DAY_MS)
    assert young.any() and not rows.keep[young].any()  # too young for a label, or its absence
    assert rows.counts["kept"] == int(rows.keep.sum())


def test_explored_only_keeps_nothing_of_the_stopped_region_but_the_explored_sample() -> None:
    table, frauds = log()
    labels = bank(table, frauds)
    drop = select_rows(table, labels, 20 * DAY_MS, 5 * DAY_MS, BlockedPolicy.DROP)
    only = select_rows(table, labels, 20 * DAY_MS, 5 * DAY_MS, BlockedPolicy.EXPLORED_ONLY)
    decision = np.array(table["decision"].to_pylist())
    assert drop.keep[decision == "review"].any()  # the verdicts train under drop
    assert not only.keep[decision != "approve"].any()
    assert (only.keep == (drop.keep & (decision == "approve"))).all()


def test_explored_rows_carry_weight_one_over_propensity_into_the_fit() -> None:
    table, frauds = log()
    train = training_set(table, bank(table, frauds), 20 * DAY_MS, 5 * DAY_MS)
    assert train.explored.any()
    assert np.allclose(train.weight[train.explored], 1 / 0.2)
    assert np.allclose(train.weight[~train.explored & (train.weight != 1.0)], 1 / 0.8)
    # A row of weight w teaches what w copies of it teach (exact bins, no sampling); only
    # approvals and the explored sample here, so every weight is a whole number of copies.
    train = training_set(
        table, bank(table, frauds), 20 * DAY_MS, 5 * DAY_MS, BlockedPolicy.EXPLORED_ONLY
    )
    config = RetrainConfig(stop_share=0.0, params=EXACT)
    weighted = fit(train, weighted=True, config=config)
    copies = np.repeat(np.arange(len(train.data)), train.weight.astype(int))
    assert np.array_equal(copies.size, np.round(train.weight.sum()))
    data = train.data
    twin = booster.fit(
        booster.matrix(data.X[copies], data.y[copies], EXACT, names=data.feature_names),
        EXACT, config.scale_pos_weight,
    )  # fmt: skip
    naive = fit(train, weighted=False, config=config)
    X = data.X[:500]
    assert np.allclose(booster.predict(weighted, X), booster.predict(twin, X), atol=1e-5)
    assert not np.allclose(booster.predict(weighted, X), booster.predict(naive, X), atol=1e-3)


@pytest.mark.parametrize("with_truth", [True, False])
def test_retrain_compares_both_models_and_names_a_winner(with_truth: bool) -> None:
    table, frauds = log(n=8_000, days=30)
    result = retrain(
        table, bank(table, frauds), cutoff_ms=30 * DAY_MS, test_from_ms=22 * DAY_MS,
        window_ms=5 * DAY_MS, config=RetrainConfig(params=EXACT),
        truth=frauds if with_truth else None, budget=20,
    )  # fmt: skip
    report = result.report
    assert set(result.models) == {"naive", "weighted"}
    sample = {n: m["unbiased_sample"] for n, m in report["measures"].items()}
    assert sample["naive"]["rows"] == report["unbiased_sample_decisions"] > 0
    assert ("ground_truth" in report["measures"]["naive"]) is with_truth
    ap = {n: s["average_precision"] for n, s in sample.items()}
    assert sample["naive"]["frauds"] > 0 and None not in ap.values()
    expected = "weighted" if ap["weighted"] > ap["naive"] else "naive"
    assert result.winner == expected
    margin = report["weighted_minus_naive"]["unbiased_sample"]["average_precision"]
    assert margin == pytest.approx(ap["weighted"] - ap["naive"], abs=1e-6)


def test_history_trains_first_with_weight_one_and_early_stopping_watches_the_log() -> None:
    from fraudguard.training.retrain import with_history

    table, frauds = log(n=4_000)
    train = training_set(table, bank(table, frauds), 20 * DAY_MS, 5 * DAY_MS)
    older, older_frauds = log(n=2_000, seed=5)
    history = training_set(older, {t: ("fraud", 0) for t in older_frauds}, 20 * DAY_MS, 0).data
    both = with_history(train, history)
    n = len(history)
    assert len(both.data) == n + len(train.data)
    assert both.data.frauds == history.frauds + train.data.frauds
    assert (both.weight[:n] == 1.0).all() and not both.explored[:n].any()
    assert np.array_equal(both.weight[n:], train.weight)
    assert np.array_equal(both.data.X[n:], train.data.X)
    assert both.counts["history"] == n and both.counts["kept"] == train.counts["kept"]
    # The latest rows (early stopping's) are the log's: the history is older than any of them.
    cut = int(len(both.data) * (1 - RetrainConfig().stop_share))
    assert cut >= n
    assert fit(both, weighted=True, config=RetrainConfig(params=EXACT)).num_boosted_rounds() > 0


def test_a_history_of_other_features_is_refused() -> None:
    import dataclasses

    from fraudguard.errors import TrainingError
    from fraudguard.training.retrain import with_history

    table, frauds = log(n=1_000)
    train = training_set(table, bank(table, frauds), 20 * DAY_MS, 5 * DAY_MS)
    other = dataclasses.replace(train.data, feature_names=tuple(reversed(FEATURE_NAMES)))
    with pytest.raises(TrainingError, match="features"):
        with_history(train, other)


def test_the_winner_gets_tiers_that_stop_the_shares_the_tiers_in_force_stopped() -> None:
    from fraudguard.decision.tiers_file import tiers_from_yaml, tiers_yaml
    from fraudguard.training.retrain import refitted_tiers, stopped_shares

    table, frauds = log(n=8_000, days=30)
    older, older_frauds = log(n=3_000, seed=5)
    history = training_set(older, {t: ("fraud", 0) for t in older_frauds}, 20 * DAY_MS, 0).data
    result = retrain(
        table, bank(table, frauds), cutoff_ms=30 * DAY_MS, test_from_ms=22 * DAY_MS,
        window_ms=5 * DAY_MS, config=RetrainConfig(params=EXACT), budget=20, history=history,
    )  # fmt: skip
    assert result.report["training_set"]["history"] == len(history)
    fitted = result.report["fitted_tiers"]
    ts = table["ts_ms"].to_numpy()
    test = table.filter(pa.array((ts >= 22 * DAY_MS) & (ts <= 30 * DAY_MS))).sort_by(
        [("ts_ms", "ascending"), ("txn_id", "ascending")]
    )
    stop, block = stopped_shares(test)
    assert (fitted["stop_share"], fitted["block_share"]) == (round(stop, 6), round(block, 6))
    # On the winner's scores of the test period, the tiers stop and block those shares (up to
    # ties of the scores at the threshold).
    from fraudguard.training.data import from_feature_table
    from fraudguard.training.sources import backtest_features

    scores = booster.predict(result.models[result.winner],
                             from_feature_table(backtest_features(test), ()).X)  # fmt: skip
    tiers = tiers_from_yaml(tiers_yaml(refitted_tiers("xgb-x-tiers", fitted)))
    assert (scores >= tiers.review).mean() == pytest.approx(stop, abs=0.02)
    assert (scores >= tiers.block).mean() == pytest.approx(block, abs=0.02)
    assert 0 < tiers.review < tiers.block <= 1
