"""The honest loop, measured: weeks of simulated time through the offline backtest, with the
bank's outcomes, weekly retraining and a drift, for four arms (issue 19).

A generated history with a bust-out wave starting in week ``--drift-week`` is decided day by
day (``--period-days``) by the backtest (the job's kernel, compiled trees, tiers and
exploration). Each arm's decisions get the bank's labels (:mod:`fraudguard.outcomes`:
chargebacks for approved fraud, verdicts for reviews within the day's capacity, nothing for
blocks unless explored), and its fraud labels feed the label-fed features of the arm's later
backtests, each from its report time on, as the job applies them. A verdict reported within
its payment's own period reaches the features from the next period, a day late at most.
Every week (``--retrain-every-days``) the labels known by then retrain the model on the arm's
own decision log (:mod:`fraudguard.training.retrain`) after the bootstrap's labelled history
(:func:`~fraudguard.training.retrain.with_history`; ``--no-history``: the log alone), and the
next days are decided by it, with tiers re-fitted to stop and block the shares of payments
the initial tiers did, on the arm's last week (``--fixed-tiers``: the initial tiers kept, on
a score scale they were not set for). The arms:

- ``frozen``: the initial model all along (its label-fed features still see its labels);
- ``naive``: retrained weekly, every row weight 1;
- ``weighted``: retrained weekly, explored rows weighted 1/propensity;
- ``reranker``: the weighted arm's models, and the re-ranker (:mod:`fraudguard.reranker`)
  learning every simulated day from the labels that arrived, re-scoring the next day. The
  backtest does not apply the re-ranker to decisions, so this arm's decisions and labels are
  the weighted arm's; the re-ranked score orders the day's review budget.

Per arm: recall per simulated day at a review budget (the ``--budget`` highest scores of the
day, against the ground truth), average precision on ground truth (pooled over the weeks, and
per week), and the days after the drift's start until recall is back at 80% of its pre-drift
mean (three-day mean). Recall at a fixed budget cannot pass ``budget / frauds`` on a day with
more frauds than reviews (``recall_ceiling_per_day``), so the budget's precision (frauds caught
per review) is reported beside it. The initial
model is trained, as the demo's bootstrap model is, on a separate generated history with
hindsight labels; the tiers are its scores' 99th and 99.8th percentiles there.

Writes bench/results/loop.json and bench/results/loop.png.
Usage: python bench/loop.py [--small] [--weeks 6] [--drift-week 3] [--cards 3000]
       [--period-days 1] [--retrain-every-days 7]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from bench_results import RESULTS_DIR, log, run_metadata, write_result
from fraudguard.config import OutcomesSettings, Settings
from fraudguard.decision import ThresholdTiers
from fraudguard.features import FEATURE_NAMES, FEATURE_SET_VERSION
from fraudguard.generator import GeneratorConfig, PaymentStream
from fraudguard.generator.config import DriftConfig
from fraudguard.generator.sinks import default_labels_path, read_records, write_files
from fraudguard.outcomes.bank import BankLabel, BankOutcomes
from fraudguard.outcomes.files import decision_facts, read_fraud_ids
from fraudguard.training import booster
from fraudguard.training.booster import BoosterParams
from fraudguard.training.data import LabelledTable, from_feature_table
from fraudguard.training.metrics import average_precision, caught_within_budget

DAY = 86_400_000
ARMS = ("frozen", "naive", "weighted", "reranker")


def recovery_days(recall: list[float | None], drift_day: int, share: float = 0.8) -> int | None:
    """Days from ``drift_day`` until the three-day mean recall is back at ``share`` of the
    mean before it; 0 if it never fell below, None if it never came back.

    >>> recovery_days([0.8, 0.8, 0.3, 0.4, 0.7, 0.8, 0.8], drift_day=2)
    2
    >>> recovery_days([0.8, 0.8, 0.8, 0.8], drift_day=2), recovery_days([1, 1, 0, 0, 0], 2)
    (0, None)
    """
    before = [r for r in recall[:drift_day] if r is not None]
    target = share * float(np.mean(before))
    after = recall[drift_day:]
    for start in range(len(after)):
        window = [r for r in after[start : start + 3] if r is not None]
        if window and np.mean(window) >= target:
            return start
    return None


@dataclass
class Arm:
    """One arm's model in force, its decisions so far and the bank's labels of them."""

    name: str
    model: str
    tiers: ThresholdTiers
    bank: BankOutcomes
    tables: list[pa.Table] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    refits: list[dict[str, Any]] = field(default_factory=list)
    """The tiers each retrained model got, when and with what it stopped then."""
    labels: list[BankLabel] = field(default_factory=list)

    def log(self) -> pa.Table:
        return pa.concat_tables(self.tables)

    def add(self, table: pa.Table, truth: set[str]) -> None:
        """A period's decisions, and the labels the bank gets for them (in event-time order,
        as :func:`fraudguard.outcomes.bank_labels` takes a whole log: periods follow each
        other, so the day's review capacity goes to the same reviews)."""
        self.tables.append(table)
        self.models.append(self.model)
        facts = sorted(decision_facts(table), key=lambda d: (d.ts_ms, d.txn_id))
        made = (self.bank.label_for(d, d.txn_id in truth) for d in facts)
        self.labels += [x for x in made if x is not None]

    def known(self) -> dict[str, tuple[str, int]]:
        """Every label so far with its report time (training keeps those reported by its
        cut-off)."""
        return {x.txn_id: (x.label, x.reported_ms) for x in self.labels}

    def fraud_before(self, at_ms: int) -> list[BankLabel]:
        """The fraud labels a backtest ending at ``at_ms`` can apply (legitimate verdicts feed
        no feature), in report order."""
        found = (x for x in self.labels if x.label == "fraud" and x.reported_ms < at_ms)
        return sorted(found, key=lambda x: (x.reported_ms, x.txn_id))


def bootstrap(
    settings: Settings, args: argparse.Namespace
) -> tuple[str, ThresholdTiers, LabelledTable]:
    """The initial champion, trained on a separate history with hindsight labels, tiers at
    its scores' 99th and 99.8th percentiles there (they stop 1% of payments and block 0.2%),
    and that history, which the retrained models keep learning from (``--no-history``: not).

    Its label-fed features are fed by that history's own fraud labels at their report times
    (:func:`~fraudguard.training.history.generated_history`): every fraud, reported days after
    its incident like a chargeback (median 5 days, a third sooner by investigation). That is
    the history a bank that has run a while holds, and without it the features would be zero
    in training and the trees would never split on them: the frozen arm could not use the
    labels it is fed. Its labels are more than the loop's bank learns (blocked fraud is never
    labelled there) and later than a review's verdict (1 to 48 hours), so the model meets
    somewhat smaller and earlier rates than it learnt from."""
    from fraudguard.training.history import generated_history

    history = generated_history(GeneratorConfig(
        seed=args.seed + 1000, cards=args.cards, merchants=args.merchants, days=args.warmup_days,
    ))  # fmt: skip
    params = BoosterParams(n_estimators=args.rounds)
    model = booster.fit(booster.matrix(history.X, history.y, params, names=FEATURE_NAMES),
                        params, 10.0)  # fmt: skip
    scores = booster.predict(model, history.X)
    review, block = (float(np.quantile(scores, q)) for q in (0.99, 0.998))
    tiers = ThresholdTiers(version="loop-v1", review=round(review, 6), block=round(block, 6))
    return register(settings, model, "bootstrap", scores, history.X), tiers, history


def register(settings: Settings, model: Any, kind: str, scores: np.ndarray, X: np.ndarray) -> str:
    from fraudguard.models import ModelRegistry
    from fraudguard.monitoring import drift
    from fraudguard.training.register import register_booster

    entry = register_booster(
        ModelRegistry.from_settings(settings), model,
        lambda header: {"feature_set_version": FEATURE_SET_VERSION, "scale_pos_weight": 10.0,
                        "training_data": {"loop": kind}},
        lambda folder, header: None,
        drift.reference(scores, X, list(FEATURE_NAMES), {}), settings.project_root,
    )  # fmt: skip
    return entry.version


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="a quick run (4 weeks, fewer cards)")
    parser.add_argument("--weeks", type=int, default=6)
    parser.add_argument("--drift-week", type=int, default=3, help="1-based week the wave starts")
    parser.add_argument("--warmup-days", type=int, default=14)
    parser.add_argument("--cards", type=int, default=3_000)
    parser.add_argument("--merchants", type=int, default=400)
    parser.add_argument("--budget", type=int, default=20, help="reviews a day")
    parser.add_argument("--share", type=float, default=0.1, help="exploration share")
    parser.add_argument("--label-window-days", type=float, default=7.0)
    parser.add_argument("--chargeback-median-days", type=float, default=5.0)
    parser.add_argument("--period-days", type=int, default=1, help="days a backtest decides")
    parser.add_argument("--retrain-every-days", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=80)
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--no-history", action="store_true", help="retrain on the log alone")
    parser.add_argument("--fixed-tiers", action="store_true", help="no tier re-fit on retraining")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    if args.small:
        args.weeks, args.drift_week, args.cards, args.merchants = 3, 2, 1_000, 150
        args.warmup_days, args.rounds = 10, 40
    metadata = run_metadata()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="fraudguard-bench-loop-") as folder:
        result = run(args, Path(folder))
    result["bench_s"] = round(time.monotonic() - started, 1)
    write_result("loop", metadata, result, args.out)
    plot(result, args.out / "loop.png")


def run(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    from fraudguard.training.retrain import DAY_MS, BlockedPolicy, RetrainConfig, fit, with_history
    from fraudguard.training.retrain import training_set as build_set

    base = Settings.from_env(os.environ)
    settings = base.model_copy(update={
        "models_root": folder / "models",
        "exploration": base.exploration.model_copy(update={"share": args.share}),
    })  # fmt: skip
    outcomes = OutcomesSettings(
        chargeback_median_days=args.chargeback_median_days, chargeback_max_days=60.0,
        review_capacity_per_day=args.budget, label_window_days=args.label_window_days,
    )  # fmt: skip
    days = args.warmup_days + 7 * args.weeks
    drift_day = args.warmup_days + 7 * (args.drift_week - 1)
    config = GeneratorConfig(
        seed=args.seed, cards=args.cards, merchants=args.merchants, days=days,
        drift=DriftConfig(start_day=drift_day),
    )  # fmt: skip
    source = folder / "transactions.jsonl"
    write_files(PaymentStream(config), source)
    truth = read_fraud_ids(default_labels_path(source))
    wave = frozenset(r["txn_id"] for r in read_records(default_labels_path(source))
                     if r.get("scenario") == config.drift.scenario)  # fmt: skip
    log(f"{days} days generated, drift from day {drift_day}; training the initial model ...")
    initial, tiers, history = bootstrap(settings, args)
    log(f"tiers review {tiers.review:.4f}, block {tiers.block:.4f}")
    start = config.start_ms
    sim_from = start + args.warmup_days * DAY
    edges = period_edges(start, days, args.period_days)
    retrain_at = {sim_from + k * args.retrain_every_days * DAY for k in range(days + 1)}
    arms = {name: Arm(name, initial, tiers, BankOutcomes(outcomes)) for name in ARMS[:3]}
    retrain_config = RetrainConfig(params=BoosterParams(n_estimators=args.rounds))
    weighted_models: list[Any] = []
    decide = Decider(Source.read(source), folder, settings)
    for period in range(len(edges) - 1):
        for arm in arms.values():
            arm.add(decide(arm.model, arm.tiers, edges[period], edges[period + 1],
                           arm.fraud_before(edges[period + 1])), truth)  # fmt: skip
        cutoff = edges[period + 1]
        if period == len(edges) - 2 or cutoff not in retrain_at:
            continue
        log(f"day {(cutoff - start) // DAY} decided ({decide.runs} backtests)")
        for arm in (arms["naive"], arms["weighted"]):
            window = round(outcomes.label_window_days * DAY_MS)
            train = build_set(arm.log(), arm.known(), cutoff, window, BlockedPolicy.DROP)
            if not args.no_history:
                train = with_history(train, history)
            model = fit(train, weighted=arm.name == "weighted", config=retrain_config)
            scores = booster.predict(model, train.data.X)
            arm.model = register(settings, model, arm.name, scores, train.data.X)
            if not args.fixed_tiers:
                arm.tiers = refit_tiers(arm, model, tiers, cutoff, (cutoff - start) // DAY)
            if arm.name == "weighted":
                weighted_models.append((cutoff, model, train))
            log(
                f"{arm.name}: retrained at day {(cutoff - start) // DAY} on "
                f"{len(train.data):,} rows, {train.data.frauds} frauds, "
                f"{int(train.explored.sum())} explored; tiers {arm.tiers.review:.4f} / "
                f"{arm.tiers.block:.4f}"
            )
    measured = {
        name: measure(arm.log(), truth, sim_from, args.budget, wave=wave)
        for name, arm in arms.items()
    }
    measured["reranker"] = rerank_arm(arms["weighted"], weighted_models, truth, outcomes,
                                      sim_from, args.budget, wave)  # fmt: skip
    for name, arm in arms.items():
        measured[name]["fraud_labels_fed"] = len(arm.fraud_before(edges[-1]))
    measured["reranker"]["fraud_labels_fed"] = measured["weighted"]["fraud_labels_fed"]
    # The frozen model with no label fed: what the label-fed features add to it.
    unfed = measure(decide(initial, tiers, edges[0], edges[-1], []), truth, sim_from, args.budget)
    drift_index = (start + drift_day * DAY - sim_from) // DAY
    for m in (*measured.values(), unfed):
        m["recovery_days"] = recovery_days(m["recall_per_day"], int(drift_index))
        before = [r for r in m["recall_per_day"][:drift_index] if r is not None]
        after = [r for r in m["recall_per_day"][drift_index:] if r is not None]
        m["recall_before_drift"] = round(float(np.mean(before)), 4)
        m["recall_after_drift"] = round(float(np.mean(after)), 4)
        # The budget's precision: a day with more frauds than reviews caps recall below 1.
        caught = m["caught_per_day"]
        for part, days in (("before", caught[:drift_index]), ("after", caught[drift_index:])):
            m[f"budget_precision_{part}_drift"] = round(float(np.mean(days)) / args.budget, 4)
    return {
        "generator": {"seed": args.seed, "cards": args.cards, "merchants": args.merchants,
                      "days": days, "drift": config.drift.model_dump() if config.drift else None},
        "warmup_days": args.warmup_days, "weeks": args.weeks, "drift_day_index": drift_index,
        "period_days": args.period_days, "retrain_every_days": args.retrain_every_days,
        "review_budget_per_day": args.budget, "exploration_share": args.share,
        "tiers": {"review": tiers.review, "block": tiers.block},
        "tiers_fixed": args.fixed_tiers, "history_in_retraining": not args.no_history,
        "tier_refits": {name: arm.refits for name, arm in arms.items() if arm.refits},
        "outcomes": outcomes.model_dump(), "rounds": args.rounds, "backtests": decide.runs,
        "arms": measured,
        "frozen_without_labels": {k: unfed[k] for k in (
            "average_precision", "recall_before_drift", "recall_after_drift", "recovery_days")},
    }  # fmt: skip


STOP_SHARE, BLOCK_SHARE = 0.01, 0.002
"""The shares of payments the bootstrap's tiers stop and block on its history."""
RECENT_DAYS = 7
"""The recent traffic a retrained model's tiers are fitted on."""


def refit_tiers(
    arm: Arm, model: Any, initial: ThresholdTiers, cutoff: int, day: int
) -> ThresholdTiers:
    """Tiers for the arm's new model that stop and block the shares the initial tiers were
    set to, on the arm's last :data:`RECENT_DAYS` of payments, as a bank re-fits its
    thresholds when it promotes a model (:func:`~fraudguard.decision.tiers.tiers_at_shares`).
    """
    from fraudguard.decision.tiers import tiers_at_shares
    from fraudguard.training.sources import backtest_features

    decisions = arm.log()
    ts = decisions["ts_ms"].to_numpy()
    recent = decisions.filter(pa.array((ts >= cutoff - RECENT_DAYS * DAY) & (ts < cutoff)))
    scores = booster.predict(model, from_feature_table(backtest_features(recent), ()).X)
    refit = tiers_at_shares(f"{initial.version}-{arm.name}-d{day}", scores, STOP_SHARE,
                            BLOCK_SHARE)  # fmt: skip
    arm.refits.append({"day": day, "review": refit.review, "block": refit.block,
                       "payments": len(scores)})  # fmt: skip
    return refit


def period_edges(start: int, days: int, period_days: int) -> list[int]:
    """The bounds of the periods decided one backtest each: ``period_days`` long, the last one
    cut at the end.

    >>> [e // DAY for e in period_edges(0, days=5, period_days=2)]
    [0, 2, 4, 5]
    """
    return [*range(start, start + days * DAY, period_days * DAY), start + days * DAY]


@dataclass(frozen=True)
class Source:
    """The generated transactions file, read once: where each line ends, so that a backtest
    reads only the lines up to its period's last payment."""

    path: Path
    ts_ms: np.ndarray
    ends: np.ndarray
    """The byte after each line."""

    @classmethod
    def read(cls, path: Path) -> Source:
        from pyarrow import json as pj

        schema = pa.schema([("event_time", pa.string())])
        options = pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore")
        table = pj.read_json(path, parse_options=options)
        ts = pc.cast(table["event_time"], pa.timestamp("ms", tz="UTC")).cast(pa.int64())
        ends = np.flatnonzero(np.fromfile(path, dtype=np.uint8) == ord("\n")) + 1
        if len(ends) != len(table):
            raise ValueError(f"{path}: {len(ends)} lines, {len(table)} payments")
        return cls(path, ts.to_numpy(), ends)

    def prefix(self, to_ms: int, out: Path) -> Path:
        """The file's lines up to its last payment before ``to_ms``: a backtest ending at
        ``to_ms`` decides the same from it (the kernel meets lines in the file's order, and a
        later line changes no earlier row's features), reading a part of the file."""
        before = np.flatnonzero(self.ts_ms < to_ms)
        size = int(self.ends[before[-1]]) if len(before) else 0
        with self.path.open("rb") as whole:
            out.write_bytes(whole.read(size))
        return out


@dataclass
class Decider:
    """Decides a period for a model and the fraud labels its backtest applies, each distinct
    question once: arms that agree so far (every arm before the first retraining) share it."""

    source: Source
    folder: Path
    settings: Settings
    runs: int = 0
    cache: dict[tuple[str, str, int, int, int], pa.Table] = field(default_factory=dict)

    def __call__(
        self, model: str, tiers: ThresholdTiers, from_ms: int, to_ms: int, labels: list[BankLabel]
    ) -> pa.Table:
        from fraudguard.backtest import run_backtest

        fed = hash(tuple((x.txn_id, x.reported_ms) for x in labels))
        key = (model, tiers.version, from_ms, to_ms, fed)
        if key not in self.cache:
            prefix = self.folder / f"until-{to_ms}.jsonl"
            if not prefix.exists():  # one at a time: the previous period's is done with
                for old in self.folder.glob("until-*.jsonl"):
                    old.unlink()
                self.source.prefix(to_ms, prefix)
            out = self.folder / f"bt-{self.runs}"
            out.mkdir(parents=True)
            path = out / "bank.labels.jsonl"
            path.write_bytes(b"".join(orjson.dumps(x.to_dict()) + b"\n" for x in labels))
            run_backtest(prefix, out, self.settings, model=model, tiers=tiers,
                         from_ms=from_ms, to_ms=to_ms, labels=path, challenger=None)  # fmt: skip
            self.runs += 1
            table = pq.read_table(out / "decisions.parquet")
            self.cache[key] = table.drop_columns(["label", "label_reported_ms"])
        return self.cache[key]


def measure(
    decisions: pa.Table,
    truth: set[str],
    sim_from: int,
    budget: int,
    score: np.ndarray | None = None,
    wave: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """Recall per day at the review budget, euro missed and average precision against the
    ground truth; for the drift's frauds (``wave``), per day: how many, how many the budget
    caught, and how many met a fraud label of their shop (a nonzero merchant or terminal
    fraud rate) when decided."""
    ts = decisions["ts_ms"].to_numpy()
    keep = ts >= sim_from
    s = decisions["score"].to_numpy()[keep] if score is None else score[keep]
    y = np.array([t in truth for t in decisions["txn_id"].to_pylist()], dtype=np.int8)[keep]
    amount = decisions["features"].combine_chunks().field("txn_amount_eur").to_numpy()[keep]
    days, frauds, caught = caught_within_budget(y, s, ts[keep], budget)
    recall = [round(c / f, 4) if f else None for c, f in zip(caught, frauds, strict=True)]
    order = np.lexsort((-s, ts[keep] // DAY))
    day = ts[keep][order] // DAY
    first = np.searchsorted(day, day, side="left")
    reviewed = np.zeros(len(s), dtype=bool)
    reviewed[order[np.arange(len(day)) - first < budget]] = True
    missed = [float(amount[(ts[keep] // DAY == d) & (y == 1) & ~reviewed].sum()) for d in days]
    after = ts[keep] >= sim_from
    ids = decisions["txn_id"].to_pylist()
    in_wave = np.array([t in wave for t in ids], dtype=bool)[keep]
    features = decisions["features"].combine_chunks()
    rates = [n for n in FEATURE_NAMES if n.startswith(("merchant_fraud_", "terminal_fraud_"))]
    labelled = np.any([features.field(n).to_numpy()[keep] > 0 for n in rates], axis=0)
    of_day = [ts[keep] // DAY == d for d in days]
    kinds = {}
    if "decision" in decisions.column_names:  # what the tiers did: the review queue's input
        decision = decisions["decision"].to_numpy(zero_copy_only=False)[keep]
        explored = decisions["explored"].to_numpy(zero_copy_only=False)[keep].astype(bool)
        kinds = {
            "stopped_per_day": [int((d & (decision != "approve")).sum()) for d in of_day],
            "explored_per_day": [int((d & explored).sum()) for d in of_day],
        }
    return {
        **kinds,
        "recall_per_day": recall,
        "wave_frauds_per_day": [int((in_wave & d).sum()) for d in of_day],
        "wave_caught_per_day": [int((in_wave & d & reviewed).sum()) for d in of_day],
        "wave_shop_labelled_per_day": [int((in_wave & d & labelled).sum()) for d in of_day],
        "frauds_per_day": frauds.tolist(),
        "caught_per_day": caught.tolist(),
        "recall_ceiling_per_day": [round(min(1.0, budget / f), 4) if f else None for f in frauds],
        "euro_missed_per_day": [round(m, 2) for m in missed],
        "average_precision": round(average_precision(y[after], s[after]), 4),
        "average_precision_per_week": per_week_ap(y, s, ts[keep] - sim_from),
        "decisions": int(keep.sum()),
        "frauds": int(y.sum()),
    }


def per_week_ap(y: np.ndarray, score: np.ndarray, since_ms: np.ndarray) -> list[float | None]:
    """Average precision within each week from the start (None for a week without fraud): the
    ranking of each week on its own, apart from how the scores of the models that decided
    them compare across a retraining (which the pooled average precision also measures).

    >>> per_week_ap(np.array([1, 0, 0, 1]), np.array([0.9, 0.1, 0.9, 0.2]),
    ...             np.array([0, 1, 8, 9]) * DAY)
    [1.0, 0.5]
    """
    week = since_ms // (7 * DAY)
    found = []
    for w in range(int(week.max()) + 1 if len(week) else 0):
        rows = week == w
        found.append(round(average_precision(y[rows], score[rows]), 4) if y[rows].any() else None)
    return found


def rerank_arm(
    arm: Arm,
    models: list[Any],
    truth: set[str],
    outcomes: OutcomesSettings,
    sim_from: int,
    budget: int,
    wave: frozenset[str],
) -> dict[str, Any]:
    """The weighted arm's decisions re-scored by a re-ranker that learns every simulated day
    from the labels that arrived (bank labels at their report time, approvals legitimate once
    the label window passed), on the base model in force; a new re-ranker for each new model."""
    from fraudguard.reranker.model import FeatureScaling, Reranker

    decisions = arm.log()
    ts = decisions["ts_ms"].to_numpy()
    flat = {n: decisions["features"].combine_chunks().field(n).to_numpy() for n in FEATURE_NAMES}
    X = np.column_stack([flat[n] for n in FEATURE_NAMES]).astype(np.float32)
    labels = arm.known()
    ids = decisions["txn_id"].to_pylist()
    approved = decisions["decision"].to_numpy(zero_copy_only=False) == "approve"
    window = round(outcomes.label_window_days * DAY)
    known_at = np.array([labels.get(t, ("", ts[i] + window if approved[i] else 2**62))[1]
                         for i, t in enumerate(ids)], dtype=np.int64)  # fmt: skip
    fraud = np.array([labels.get(t, ("legit",))[0] == "fraud" for t in ids])
    score = decisions["score"].to_numpy().copy()
    reranker, base = None, None
    names = Reranker().config.features
    for day_start in range(sim_from, int(ts.max()) + 1, DAY):
        for cut, model, train in models:
            if cut == day_start:  # a new base model: a new re-ranker for it
                base = booster.predict(model, X)
                sample = ({n: float(train.data.X[i, FEATURE_NAMES.index(n)]) for n in names}
                          for i in range(0, len(train.data), 10))  # fmt: skip
                reranker = Reranker(scaling=FeatureScaling.fit(names, sample))
        today = np.flatnonzero((ts >= day_start) & (ts < day_start + DAY))
        if reranker is not None and base is not None:
            for i in today:
                score[i] = reranker.score(float(base[i]), {n: float(flat[n][i]) for n in names})
            arrived = np.flatnonzero((known_at >= day_start) & (known_at < day_start + DAY))
            rows = [(float(base[i]), {n: float(flat[n][i]) for n in names}, bool(fraud[i]))
                    for i in arrived]  # fmt: skip
            if rows:
                reranker.learn_batch(rows)
    return measure(decisions, truth, sim_from, budget, score, wave)


def plot(result: dict[str, Any], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4.5), dpi=110)
    try:
        for name, m in result["arms"].items():
            recall = [np.nan if r is None else r for r in m["recall_per_day"]]
            ax.plot(range(len(recall)), recall, label=f"{name} (AP {m['average_precision']:.3f})",
                    linewidth=1.4)  # fmt: skip
        ceiling = next(iter(result["arms"].values())).get("recall_ceiling_per_day")
        if ceiling:  # the same for every arm: the day's frauds against the budget
            ax.plot([np.nan if c is None else c for c in ceiling], color="grey", linewidth=1.0,
                    linestyle="--", label="most the budget can catch")  # fmt: skip
        ax.axvline(result["drift_day_index"], color="grey", linestyle=":", label="drift starts")
        ax.set(xlabel="simulated day", ylim=(0, 1.02),
               ylabel=f"recall at {result['review_budget_per_day']} reviews a day",
               title="The loop: recall per simulated day")  # fmt: skip
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="lower left")
        fig.tight_layout()
        out.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out, format="png")
    finally:
        plt.close(fig)
    log(f"plot: {out}")


if __name__ == "__main__":
    main()
