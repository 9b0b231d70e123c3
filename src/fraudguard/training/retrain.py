"""Retraining on the decision log that corrects for what the decisions hid.

A bank learns labels only for what its decisions let through (:mod:`fraudguard.outcomes`): a
chargeback for an approved fraud, a verdict for a review, nothing for a block. A model trained
on those labels as they come learns what the old model approved, not what it stopped. The
exploration release approves a random share of stopped payments and records its probability
(the propensity), so each explored row can stand for ``1 / propensity`` rows like it.

**The training set** (:func:`training_set`), from decisions made by the cut-off and the bank
labels reported by it:

- an approved payment (an explored release included) with a label keeps it; without one it is
  legitimate once the label window has passed (*matured*), and left out while younger
  (*immature*: its chargeback may still come);
- a stopped payment (review or block, not explored) depends on the ``blocked`` policy:
  ``drop`` keeps it when it has a label (an investigation verdict) and drops it otherwise (a
  block is never labelled; a review beyond the day's capacity neither); ``explored-only``
  drops every stopped payment, labelled or not, so what the tiers stop enters training only
  through the explored sample, without the investigators' selection;
- every kept row carries ``weight = 1 / propensity``: 1 for what the tiers approved,
  ``1 / share`` for an explored release, ``1 / (1 - share)`` for a reviewed one.

The *naive* model learns from the same rows with every weight 1; the *weighted* one uses the
weights. :func:`retrain` trains both on the rows before the test period, measures them on
the test period's explored decisions (the unbiased sample: a random share of what the tiers
stopped, plus what they approved is not in it) and on every test decision against the ground
truth when it is given (evaluation only: it never trains or chooses), and keeps the better on
the unbiased sample.

>>> decisions = pa.table({
...     "txn_id": ["a", "b", "c", "d", "e"], "decision": ["approve", "approve", "block",
...     "approve", "review"], "explored": [False, True, False, False, False],
...     "propensity": [1.0, 0.1, 0.9, 1.0, 0.9], "ts_ms": [0, 0, 0, 9 * DAY_MS, 0]})
>>> labels = {"b": ("fraud", DAY_MS), "e": ("legit", DAY_MS)}
>>> rows = select_rows(decisions, labels, cutoff_ms=10 * DAY_MS, window_ms=5 * DAY_MS,
...                    policy=BlockedPolicy.DROP)
>>> rows.keep.tolist(), rows.y.tolist(), rows.weight[rows.keep].round(3).tolist()
([True, True, False, False, True], [0, 1, 0, 0, 0], [1.0, 10.0, 1.111])
>>> rows.counts["matured_legit"], rows.counts["immature"], rows.counts["stopped_dropped"]
(1, 1, 1)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import xgboost as xgb

from fraudguard.decision.tiers import ThresholdTiers
from fraudguard.decision.tiers_file import tiers_yaml
from fraudguard.errors import TrainingError
from fraudguard.models import ModelEntry, ModelRegistry
from fraudguard.training import booster
from fraudguard.training.booster import BoosterParams
from fraudguard.training.data import LabelledTable, from_feature_table
from fraudguard.training.metrics import average_precision, recall_at_budget
from fraudguard.training.sources import backtest_features

DAY_MS = 86_400_000
LOG_COLUMNS: tuple[str, ...] = ("txn_id", "decision", "explored", "propensity", "ts_ms")
"""What the decision log must hold beside the identity and feature columns."""


class BlockedPolicy(Enum):
    """What training does with payments the tiers stopped (see the module's docstring)."""

    DROP = "drop"
    EXPLORED_ONLY = "explored-only"


@dataclass(frozen=True)
class Rows:
    """Which decisions train, with what label and weight."""

    keep: np.ndarray
    y: np.ndarray
    """1 for a known fraud, else 0 (a legit label or a matured approval)."""
    weight: np.ndarray
    """``1 / propensity`` of every decision (read where ``keep``)."""
    counts: dict[str, int]


def select_rows(
    decisions: pa.Table,
    labels: Mapping[str, tuple[str, int]],
    cutoff_ms: int,
    window_ms: int,
    policy: BlockedPolicy,
) -> Rows:
    """The rows of ``decisions`` (:data:`LOG_COLUMNS`) that train at ``cutoff_ms``, given the
    bank's ``labels`` (txn id to label and report time; only those reported by the cut-off
    count) and the label window."""
    missing = [c for c in LOG_COLUMNS if c not in decisions.column_names]
    if missing:
        raise TrainingError(f"the decision log lacks columns: {', '.join(missing)}")
    txn = decisions["txn_id"].to_pylist()
    ts = decisions["ts_ms"].to_numpy(zero_copy_only=False).astype(np.int64)
    explored = decisions["explored"].to_numpy(zero_copy_only=False).astype(bool)
    propensity = decisions["propensity"].to_numpy(zero_copy_only=False).astype(np.float64)
    approved = decisions["decision"].to_numpy(zero_copy_only=False) == "approve"
    known = np.array([labels.get(t, ("", cutoff_ms + 1))[1] <= cutoff_ms for t in txn], bool)
    fraud = known & np.array([labels.get(t, ("",))[0] == "fraud" for t in txn], bool)
    decided = ts <= cutoff_ms
    matured = ts <= cutoff_ms - window_ms
    take_approved = approved & (known | matured)
    take_stopped = ~approved & known if policy is BlockedPolicy.DROP else np.zeros_like(known)
    keep = decided & (take_approved | take_stopped)
    if (propensity[keep] <= 0).any():
        raise TrainingError("a kept decision has propensity 0: it could not have happened")
    counts = {
        "decisions": int(decided.sum()),
        "kept": int(keep.sum()),
        "labelled": int((keep & known).sum()),
        "frauds": int((keep & fraud).sum()),
        "matured_legit": int((keep & ~known).sum()),
        "explored": int((keep & explored).sum()),
        "immature": int((decided & approved & ~known & ~matured).sum()),
        "stopped_dropped": int((decided & ~approved & ~keep).sum()),
    }
    return Rows(keep, fraud.astype(np.int8), 1.0 / np.maximum(propensity, 1e-12), counts)


@dataclass(frozen=True, eq=False)
class TrainingSet:
    """Kept decisions as a labelled table, with each row's inverse-propensity weight."""

    data: LabelledTable
    weight: np.ndarray
    explored: np.ndarray
    counts: dict[str, int]


def training_set(
    decisions: pa.Table,
    labels: Mapping[str, tuple[str, int]],
    cutoff_ms: int,
    window_ms: int,
    policy: BlockedPolicy = BlockedPolicy.DROP,
) -> TrainingSet:
    """The training set of a decision log (a backtest's decisions, with their ``features``
    struct) at ``cutoff_ms``, in time order."""
    rows = select_rows(decisions, labels, cutoff_ms, window_ms, policy)
    kept = decisions.filter(pa.array(rows.keep))
    extra = pa.table({
        "_y": rows.y[rows.keep], "_w": rows.weight[rows.keep],
        "_explored": kept["explored"].combine_chunks(),
    })  # fmt: skip
    kept = kept.select(["txn_id", "ts_ms", "card_id", "features", "feature_version"])
    for name in extra.column_names:
        kept = kept.append_column(name, extra[name])
    kept = kept.sort_by([("ts_ms", "ascending"), ("txn_id", "ascending")])
    frauds = set(kept.filter(pa.compute.equal(kept["_y"], 1))["txn_id"].to_pylist())
    data = from_feature_table(backtest_features(kept), frauds)
    return TrainingSet(
        data,
        kept["_w"].to_numpy(),
        kept["_explored"].to_numpy(zero_copy_only=False).astype(bool),
        rows.counts,
    )


def with_history(train: TrainingSet, history: LabelledTable) -> TrainingSet:
    """``train`` after ``history``: labelled rows from before the decision log (the data the
    champion was trained on), kept so that a retrained model does not start from the few
    labels the log holds so far. Every label of the history is known and no decision hid
    any of them, so each of its rows weighs 1 in either model; they come first, so early
    stopping (the latest rows) still watches the log.

    >>> from fraudguard.features import FEATURE_SET_VERSION
    >>> def table(n: int, fraud: int) -> LabelledTable:
    ...     y = np.array([1] * fraud + [0] * (n - fraud), dtype=np.int8)
    ...     ids = np.array([f"t{i}" for i in range(n)])
    ...     return LabelledTable(np.zeros((n, 2), np.float32), y, np.arange(n), ids, ids,
    ...                          ("a", "b"), FEATURE_SET_VERSION)
    >>> log = TrainingSet(table(3, 1), np.array([1.0, 10.0, 1.0]), np.array([0, 1, 0], bool), {})
    >>> both = with_history(log, table(4, 2))
    >>> len(both.data), both.data.frauds, both.weight.tolist(), both.counts["history"]
    (7, 3, [1.0, 1.0, 1.0, 1.0, 1.0, 10.0, 1.0], 4)
    """
    data = train.data
    if history.feature_names != data.feature_names:
        raise TrainingError("the history's features are not the decision log's")
    joined = LabelledTable(
        np.concatenate([history.X, data.X]), np.concatenate([history.y, data.y]),
        np.concatenate([history.ts_ms, data.ts_ms]),
        np.concatenate([history.card_id, data.card_id]),
        np.concatenate([history.txn_id, data.txn_id]), data.feature_names,
        data.feature_set_version,
    )  # fmt: skip
    return TrainingSet(
        joined,
        np.concatenate([np.ones(len(history)), train.weight]),
        np.concatenate([np.zeros(len(history), dtype=bool), train.explored]),
        {**train.counts, "history": len(history), "history_frauds": history.frauds},
    )


@dataclass(frozen=True)
class RetrainConfig:
    """How the naive and the weighted model are fitted."""

    scale_pos_weight: float = 10.0
    """The fraud class's weight, the same for both models (on top of the row weights)."""
    stop_share: float = 0.2
    """The latest share of the training rows that early stopping watches."""
    params: BoosterParams = field(default_factory=BoosterParams)


def fit(train: TrainingSet, weighted: bool, config: RetrainConfig) -> xgb.Booster:
    """A booster on ``train``, its rows weighted by inverse propensity when ``weighted``,
    stopping early on its latest ``stop_share`` (weighted alike)."""
    data, params = train.data, config.params
    if data.frauds == 0:
        raise TrainingError("no known fraud in the training set: nothing to learn from")
    weight = train.weight if weighted else np.ones(len(data))
    cut = int(len(data) * (1 - config.stop_share))
    names = data.feature_names
    fit_on = booster.matrix(data.X[:cut], data.y[:cut], params, names=names, weight=weight[:cut])
    if cut < len(data) and data.y[cut:].any() and data.y[:cut].any():
        stop = booster.matrix(
            data.X[cut:], data.y[cut:], params, ref=fit_on, names=names, weight=weight[cut:]
        )
        return booster.fit(fit_on, params, config.scale_pos_weight, stop_on=stop)
    everything = booster.matrix(data.X, data.y, params, names=names, weight=weight)
    return booster.fit(everything, params, config.scale_pos_weight)


def measures(y: np.ndarray, scores: np.ndarray, ts_ms: np.ndarray, budget: int) -> dict[str, Any]:
    """Average precision and recall at a daily review budget of one set of scores.

    >>> measures(np.array([0, 1, 1]), np.array([0.1, 0.9, 0.2]), np.array([0, 0, 0]), 1)
    {'rows': 3, 'frauds': 2, 'average_precision': 1.0, 'recall_at_budget': 0.5}
    """
    ap = average_precision(y, scores) if len(y) else math.nan
    return {
        "rows": len(y), "frauds": int(y.sum()),
        "average_precision": None if math.isnan(ap) else round(ap, 6),
        "recall_at_budget": None if not y.any() else recall_at_budget(y, scores, ts_ms, budget),
    }  # fmt: skip


@dataclass
class RetrainResult:
    """Both models, how each did, and which won."""

    models: dict[str, xgb.Booster]
    """``naive`` and ``weighted``."""
    winner: str
    report: dict[str, Any]
    reference: dict[str, Any]
    """The winner's test-period distributions (``monitoring.drift.reference``)."""


def retrain(
    decisions: pa.Table,
    labels: Mapping[str, tuple[str, int]],
    cutoff_ms: int,
    test_from_ms: int,
    window_ms: int,
    policy: BlockedPolicy = BlockedPolicy.DROP,
    config: RetrainConfig | None = None,
    truth: set[str] | None = None,
    budget: int = 100,
    history: LabelledTable | None = None,
) -> RetrainResult:
    """Train the naive and the weighted model on the decisions before ``test_from_ms`` with
    the bank labels known at ``cutoff_ms``, measure both on the decisions from
    ``test_from_ms`` to the cut-off, and keep the better on the unbiased sample.

    The unbiased sample is the test period's explored decisions, labelled by ``truth`` (the
    generator's fraud ids) when given, else by their bank labels known at the cut-off (one
    without a label counts as legitimate, which undercounts the frauds not reported yet).
    ``truth`` also measures both models on every test decision; it never trains, and it
    only chooses through the sample.
    A tie, or a sample without fraud, keeps the naive model: no evidence for the weights.

    ``history`` (the labelled rows the champion learnt from) goes before the log's rows
    (:func:`with_history`). The report holds the winner's tiers re-fitted on the test period
    to stop and block the shares of payments the tiers in force stopped and blocked there
    (:func:`fitted_tiers`): its scores have a scale of their own."""
    from fraudguard.monitoring import drift

    config = config or RetrainConfig()
    ts = decisions["ts_ms"].to_numpy(zero_copy_only=False).astype(np.int64)
    before = decisions.filter(pa.array(ts < test_from_ms))
    train = training_set(before, labels, cutoff_ms, window_ms, policy)
    if history is not None:
        train = with_history(train, history)
    models = {
        "naive": fit(train, weighted=False, config=config),
        "weighted": fit(train, weighted=True, config=config),
    }
    test = decisions.filter(pa.array((ts >= test_from_ms) & (ts <= cutoff_ms))).sort_by(
        [("ts_ms", "ascending"), ("txn_id", "ascending")]
    )  # the order from_feature_table gives the features
    if test.num_rows == 0:
        raise TrainingError("no decision in the test period: move the test start earlier")
    X = from_feature_table(backtest_features(test), ()).X
    ids = np.asarray(test["txn_id"].to_pylist(), dtype=object)
    test_ts = test["ts_ms"].to_numpy(zero_copy_only=False).astype(np.int64)
    explored = test["explored"].to_numpy(zero_copy_only=False).astype(bool)
    scores = {name: booster.predict(model, X) for name, model in models.items()}
    if truth is not None:
        sample_y = np.array([t in truth for t in ids[explored]], dtype=np.int8)
        sample_rows = explored
        sample_labels = "ground truth (the generator's labels; evaluation only)"
    else:
        reported = [labels.get(t, ("", cutoff_ms + 1)) for t in ids]
        fraud = np.array([lab == "fraud" and at <= cutoff_ms for lab, at in reported], bool)
        sample_rows = explored
        sample_y = fraud[explored].astype(np.int8)
        sample_labels = (
            "bank labels known at the cut-off, an explored release without one counted "
            "legitimate (a fraud of the last weeks may not be reported yet)"
        )
    measured: dict[str, dict[str, Any]] = {}
    for name, s in scores.items():
        measured[name] = {
            "unbiased_sample": measures(sample_y, s[sample_rows], test_ts[sample_rows], budget)
        }
        if truth is not None:
            y = np.array([t in truth for t in ids], dtype=np.int8)
            measured[name]["ground_truth"] = measures(y, s, test_ts, budget)
    ap = {name: m["unbiased_sample"]["average_precision"] for name, m in measured.items()}
    winner = (
        "weighted"
        if ap["weighted"] is not None and ap["naive"] is not None and ap["weighted"] > ap["naive"]
        else "naive"
    )
    margin = {
        part: {
            key: _diff(measured["weighted"][part][key], measured["naive"][part][key])
            for key in ("average_precision", "recall_at_budget")
        }
        for part in measured["naive"]
    }
    report = {
        "cutoff_ms": cutoff_ms, "test_from_ms": test_from_ms, "label_window_ms": window_ms,
        "blocked_policy": policy.value, "review_budget_per_day": budget,
        "training_set": train.counts, "training_rows": len(train.data),
        "training_frauds": train.data.frauds,
        "explored_weight_sum": round(float(train.weight[train.explored].sum()), 3),
        "scale_pos_weight": config.scale_pos_weight, "params": config.params.to_dict(),
        "test_decisions": len(ids), "unbiased_sample_decisions": int(sample_rows.sum()),
        "unbiased_sample_labels": sample_labels, "measures": measured,
        "weighted_minus_naive": margin, "winner": winner,
        "rounds": {name: m.num_boosted_rounds() for name, m in models.items()},
        "fitted_tiers": fitted_tiers(test, scores[winner]),
    }  # fmt: skip
    gain = models[winner].get_score(importance_type="total_gain")
    importance = {k: float(v) for k, v in gain.items() if isinstance(v, int | float)}
    ranked = dict(sorted(importance.items(), key=lambda kv: -kv[1]))
    reference = drift.reference(scores[winner], X, train.data.feature_names, ranked)
    return RetrainResult(models, winner, report, reference)


def stopped_shares(decisions: pa.Table) -> tuple[float, float]:
    """The shares of ``decisions`` the tiers in force stopped (reviewed or blocked, explored
    releases included: the tiers stopped them) and blocked (an explored release of a would-be
    block counts as stopped only: the record keeps no more).

    >>> stopped_shares(pa.table({"decision": ["approve", "review", "block", "approve"],
    ...                          "explored": [False, False, False, True]}))
    (0.75, 0.25)
    """
    decision = decisions["decision"].to_numpy(zero_copy_only=False)
    explored = decisions["explored"].to_numpy(zero_copy_only=False).astype(bool)
    stopped = (decision != "approve") | explored
    return float(stopped.mean()), float((decision == "block").mean())


def fitted_tiers(test: pa.Table, scores: np.ndarray) -> dict[str, Any] | None:
    """The winner's tiers at the shares the tiers in force stopped and blocked in the test
    period (:func:`~fraudguard.decision.tiers.tiers_at_shares`), or None when the period's
    shares give no band (nothing blocked, or nothing but blocks)."""
    from fraudguard.decision.tiers import tiers_at_shares

    stop_share, block_share = stopped_shares(test)
    if not 0 < block_share < stop_share < 1:
        return None
    tiers = tiers_at_shares("fitted", scores, stop_share, block_share)
    return {
        "review": tiers.review, "block": tiers.block,
        "stop_share": round(stop_share, 6), "block_share": round(block_share, 6),
    }  # fmt: skip


def refitted_tiers(version: str, fitted: dict[str, Any]) -> ThresholdTiers:
    """The tiers of a report's ``fitted_tiers``, as a thresholds file holds them.

    >>> tiers = refitted_tiers("xgb-1-tiers", {"review": 0.31, "block": 0.87,
    ...                                        "stop_share": 0.01, "block_share": 0.002})
    >>> tiers.version, tiers.review, tiers.block
    ('xgb-1-tiers', 0.31, 0.87)
    """
    return ThresholdTiers(
        version, fitted["review"], fitted["block"],
        description=f"re-fitted for the retrained model to stop {fitted['stop_share']:.4%} and "
        f"block {fitted['block_share']:.4%} of payments, as the tiers in force did",
    )  # fmt: skip


TIERS_FILE = "tiers.yaml"
"""The re-fitted tiers in a retrained model's folder."""


def _diff(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else round(a - b, 6)


def register_retrained(
    registry: ModelRegistry,
    result: RetrainResult,
    sources: dict[str, Any],
    project_root: Path,
    feature_set_version: str,
) -> ModelEntry:
    """Register the winner as a challenger (never promoted here), with the report."""
    from fraudguard.training.register import register_booster
    from fraudguard.training.retrain_report import write_report

    winner = result.models[result.winner]

    def describe(header: dict[str, Any]) -> dict[str, Any]:
        return {
            "feature_set_version": feature_set_version,
            "scale_pos_weight": result.report["scale_pos_weight"],
            "params": {**result.report["params"], "rounds": winner.num_boosted_rounds()},
            "metrics": result.report["measures"][result.winner],
            "training_data": {
                "retrain": result.winner, "blocked_policy": result.report["blocked_policy"],
                "counts": result.report["training_set"], "sources": sources,
            },
        }  # fmt: skip

    def write_files(folder: Path, header: dict[str, Any]) -> None:
        write_report({**header, "sources": sources, **result.report}, folder)
        fitted = result.report.get("fitted_tiers")
        if fitted is not None:
            tiers = refitted_tiers(f"{header['version']}-tiers", fitted)
            (folder / TIERS_FILE).write_text(tiers_yaml(tiers))

    return register_booster(registry, winner, describe, write_files, result.reference, project_root)
