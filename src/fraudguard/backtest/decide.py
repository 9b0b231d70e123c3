"""The job's decision over a batch of scored rows at once, as a table of decision records.

The same rules as :class:`~fraudguard.decision.decider.Decider` and the job's exploration step
(:class:`~fraudguard.flink.functions.ExploreStopped`), applied to columns: the tiers through
:meth:`ThresholdTiers.decide_columns` (equal to the row rule), the rules fallback row by row
for the few rows no model scored, and exploration through the job's own
:meth:`ExplorationPolicy.apply`, on the stopped rows in stream order, so the same
transactions are released with the same propensities.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fraudguard.backtest.rows import RowBatch
from fraudguard.decision import ThresholdTiers
from fraudguard.decision.decider import NO_RERANKER
from fraudguard.decision.exploration import ExplorationPolicy, ExposureState
from fraudguard.decision.fallback import RulesFallback
from fraudguard.decision.tiers import AMOUNT_FEATURE, DECISION_CODES
from fraudguard.features.registry import FEATURE_NAMES, FEATURE_SET_VERSION
from fraudguard.reranker.model import Reranker

_AMOUNT_AT = FEATURE_NAMES.index(AMOUNT_FEATURE)
_FEATURE_AT = {name: at for at, name in enumerate(FEATURE_NAMES)}
_DECISIONS = pa.array(DECISION_CODES)
FEATURES_TYPE = pa.struct([pa.field(name, pa.float64(), nullable=False) for name in FEATURE_NAMES])


@dataclass
class DecisionConfig:
    """One configuration a backtest decides with: a model's scores, tiers, exploration."""

    model_index: int
    """Which of the JVM's score columns is this configuration's."""
    model_version: str
    tiers: ThresholdTiers
    policy: ExplorationPolicy | None
    """None: the job runs without exploration (share 0)."""
    exposure: ExposureState = field(default_factory=ExposureState)
    challenger: tuple[int, str] | None = None
    """The shadow challenger's score column and version, recorded beside each decision as
    the job records it (None: no challenger)."""
    reranker: Reranker | None = None
    reranker_for: str | None = None
    """The re-ranker snapshot in force and the base model it learnt on (None: any), applied
    as :class:`~fraudguard.decision.decider.Decider` applies it."""


def release_stopped(
    policy: ExplorationPolicy,
    state: ExposureState,
    decisions: list[str],
    txn_ids: list[str],
    ts_ms: list[int],
    amounts_eur: list[float],
) -> tuple[list[str], list[bool], list[float]]:
    """The job's exploration step over stopped decisions in stream order: per row, the
    decision to record, whether it was released, and its propensity.

    >>> policy = ExplorationPolicy(share=0.5, seed=7, max_count_per_window=2,
    ...                            max_amount_eur_per_window=1000.0, window_ms=60_000)
    >>> release_stopped(policy, policy.new_state(), ["block"] * 3, ["t2", "t0", "t1"],
    ...                 [0, 0, 0], [10.0] * 3)
    (['block', 'approve', 'approve'], [False, True, True], [0.5, 0.5, 0.5])
    """
    outcomes = [
        policy.apply(state, decision, txn_id, ts, amount)
        for decision, txn_id, ts, amount in zip(decisions, txn_ids, ts_ms, amounts_eur, strict=True)
    ]
    return (
        [o.decision for o in outcomes],
        [o.explored for o in outcomes],
        [o.propensity for o in outcomes],
    )


def _rules_scores(batch: RowBatch, rows: np.ndarray) -> np.ndarray:
    rules = RulesFallback()
    channel = batch.text["channel"].take(pa.array(rows)).to_pylist()
    out = np.empty(len(rows))
    for i, (row, chan) in enumerate(zip(rows.tolist(), channel, strict=True)):
        features = dict(zip(FEATURE_NAMES, batch.features[row].tolist(), strict=True))
        out[i] = rules.score(float(batch.amount[row]), chan, features).score
    return out


def rerank(
    batch: RowBatch, config: DecisionConfig, base: np.ndarray, degraded: np.ndarray,
    version: np.ndarray,
) -> tuple[np.ndarray, pa.Array]:  # fmt: skip
    """The score the tiers see and the re-ranker version per row: the snapshot's score of a
    model-scored row of the model it learnt on (never of a rules score), else the base."""
    n = len(batch)
    reranker = config.reranker
    if reranker is None:
        return base, pa.array([NO_RERANKER] * n)
    applies = ~degraded
    if config.reranker_for is not None:
        applies &= version == config.reranker_for
    score = base.copy()
    rows = np.flatnonzero(applies)
    # Only the few features the re-ranker reads, taken out of the batch at once.
    inputs = [n for n in reranker.scaling.features if n in _FEATURE_AT]
    columns = np.array([_FEATURE_AT[n] for n in inputs], dtype=np.intp)
    values = batch.features[np.ix_(rows, columns)].tolist()
    for row, row_values in zip(rows.tolist(), values, strict=True):
        score[row] = reranker.score(float(base[row]), dict(zip(inputs, row_values, strict=True)))
    names = np.where(applies, reranker.version, NO_RERANKER)
    return score, pa.array(names.tolist(), pa.string())


def decide_batch(batch: RowBatch, config: DecisionConfig) -> pa.Table:
    """The decision records of ``batch`` under ``config`` (``DecisionRecord``'s fields, the
    features as a struct), plus ``ts_ms``. ``decided_at_ms`` is the event time: a backtest
    decides as if on arrival, and the same file gives the same table."""
    n = len(batch)
    base = batch.scores[config.model_index].copy()
    degraded = np.isnan(base)
    unscored = np.flatnonzero(degraded)
    if len(unscored):
        base[unscored] = _rules_scores(batch, unscored)
    version = np.where(degraded, RulesFallback().rules.version, config.model_version)
    amount_eur = batch.features[:, _AMOUNT_AT]
    tiers = config.tiers
    if tiers.overrides:
        mcc = batch.text["mcc"].to_numpy(zero_copy_only=False)
        channel = batch.text["channel"].to_numpy(zero_copy_only=False)
    else:  # no override reads a segment: spare converting the columns
        mcc = channel = np.empty(n, dtype=object)
    score, reranker_version = rerank(batch, config, base, degraded, version)
    codes, tier_codes = tiers.decide_columns(score, mcc, channel, amount_eur)
    decision = pa.DictionaryArray.from_arrays(pa.array(codes), _DECISIONS).cast(pa.string())
    explored = np.zeros(n, dtype=bool)
    propensity = np.ones(n)
    if config.policy is not None:
        stopped = np.flatnonzero(codes != 0)
        if len(stopped):
            taken = pa.array(stopped)
            done, released, chances = release_stopped(
                config.policy, config.exposure,
                [DECISION_CODES[c] for c in codes[stopped].tolist()],
                batch.text["txn_id"].take(taken).to_pylist(),
                batch.ts_ms[stopped].tolist(), amount_eur[stopped].tolist(),
            )  # fmt: skip
            explored[stopped] = released
            propensity[stopped] = chances
            final = np.array([DECISION_CODES.index(d) for d in done], dtype=codes.dtype)
            codes = codes.copy()
            codes[stopped] = final
            decision = pa.DictionaryArray.from_arrays(pa.array(codes), _DECISIONS).cast(pa.string())
    tier_names = pa.array(tiers.tier_names())
    features = pa.StructArray.from_arrays(
        [pa.array(batch.features[:, i]) for i in range(len(FEATURE_NAMES))],
        fields=list(FEATURES_TYPE),
    )
    text = batch.text
    shadow_version: pa.Array = pa.nulls(n, pa.string())
    shadow_score: pa.Array = pa.nulls(n, pa.float64())
    if config.challenger is not None:
        scores = batch.scores[config.challenger[0]]
        missing = np.isnan(scores)  # it could not score: no fields, as in the job
        shadow_score = pa.array(scores, mask=missing)
        named = pa.array([config.challenger[1]] * n, pa.string())
        shadow_version = pc.if_else(pa.array(missing), pa.scalar(None, pa.string()), named)
    return pa.table({
        "txn_id": text["txn_id"], "card_id": text["card_id"], "event_time": text["event_time"],
        "decision": decision, "score": score, "model_version": pa.array(version),
        "threshold_version": pa.array([tiers.version] * n), "decided_at_ms": batch.ts_ms,
        "features": features, "feature_version": pa.array([FEATURE_SET_VERSION] * n),
        "base_score": base, "reranker_version": reranker_version,
        "tier": pa.DictionaryArray.from_arrays(pa.array(tier_codes), tier_names).cast(pa.string()),
        "explored": explored, "propensity": propensity, "degraded": degraded,
        "late": batch.late, "merchant_id": text["merchant_id"],
        "terminal_id": text["terminal_id"], "amount": batch.amount,
        "currency": text["currency"], "mcc": text["mcc"], "country": text["country"],
        "channel": text["channel"], "challenger_version": shadow_version,
        "challenger_score": shadow_score, "ts_ms": batch.ts_ms,
    })  # fmt: skip
