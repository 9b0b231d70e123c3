"""The pieces of bench/loop.py (its --small run takes over two minutes, too long for the unit
tests): recall per day at the review budget, and the days to recover after a drift."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from fraudguard.backtest.decide import FEATURES_TYPE
from fraudguard.decision import BUILTIN_TIERS
from fraudguard.features import FEATURE_NAMES, FEATURE_SET_VERSION

loop = pytest.importorskip("loop")
DAY = 86_400_000


def decisions(
    scores: list[float], days: list[int], amounts: list[float], shop_rate: list[float] | None = None
) -> pa.Table:
    n = len(scores)
    given = {"txn_amount_eur": amounts, "merchant_fraud_rate_7d": shop_rate or [0.0] * n}
    columns = [pa.array(given.get(name, [0.0] * n)) for name in FEATURE_NAMES]
    features = pa.StructArray.from_arrays(columns, fields=list(FEATURES_TYPE))
    return pa.table({
        "txn_id": [f"t{i}" for i in range(n)], "ts_ms": [d * DAY + i for i, d in enumerate(days)],
        "score": scores, "features": features,
    })  # fmt: skip


def test_recall_per_day_counts_the_budget_s_highest_scores_of_each_day() -> None:
    table = decisions(
        scores=[0.9, 0.8, 0.1, 0.7, 0.95, 0.2, 0.3],
        days=[0, 0, 0, 0, 1, 1, 1],
        amounts=[10.0, 20.0, 40.0, 5.0, 1.0, 2.0, 100.0],
    )
    truth = {"t0", "t2", "t5", "t6"}
    m = loop.measure(table, truth, sim_from=0, budget=2)
    assert m["frauds_per_day"] == [2, 2]
    # Day 0 reviews t0 and t1 (t2, a fraud, scores too low); day 1 t4 and t6 (t5 missed).
    assert m["recall_per_day"] == [0.5, 0.5]
    assert m["euro_missed_per_day"] == [40.0, 2.0]
    assert m["caught_per_day"] == [1, 1]
    # Two frauds a day, two reviews: every fraud could have been caught.
    assert m["recall_ceiling_per_day"] == [1.0, 1.0]
    assert loop.measure(table, truth, 0, budget=1)["recall_ceiling_per_day"] == [0.5, 0.5]
    later = loop.measure(table, truth, sim_from=DAY, budget=2)
    assert later["frauds_per_day"] == [2] and later["decisions"] == 3


def test_the_wave_s_frauds_are_counted_caught_and_met_by_their_shop_s_labels() -> None:
    table = decisions(
        scores=[0.9, 0.8, 0.1, 0.7, 0.95, 0.2, 0.3],
        days=[0, 0, 0, 0, 1, 1, 1],
        amounts=[1.0] * 7,
        shop_rate=[0.0, 0.0, 0.0, 0.0, 0.0, 0.02, 0.01],
    )
    m = loop.measure(table, {"t0", "t2", "t5", "t6"}, 0, 2, wave=frozenset({"t2", "t5", "t6"}))
    assert m["wave_frauds_per_day"] == [1, 2]
    assert m["wave_caught_per_day"] == [0, 1]  # day 1 reviews t4 and t6
    assert m["wave_shop_labelled_per_day"] == [0, 2]


@pytest.mark.parametrize(
    "recall, expected",
    [
        ([0.8, 0.8, 0.2, 0.3, 0.4, 0.8, 0.9, 0.9], 2),  # days 2 to 4 average 80%
        ([0.8, 0.8, 0.8, 0.7, 0.8], 0),  # never fell below 80%
        ([0.8, 0.8, 0.1, 0.1, 0.2], None),  # never recovered
        ([0.8, None, 0.2, None, 0.9, 0.9], 1),  # days without fraud are skipped
    ],
)
def test_recovery_days(recall: list[float | None], expected: int | None) -> None:
    assert loop.recovery_days(recall, drift_day=2) == expected
    assert np.isfinite(np.mean([r for r in recall if r is not None]))


def facts_table(rows: list[tuple[str, str, int]]) -> pa.Table:
    """Decisions as the loop reads them: (txn_id, decision, day) each."""
    return pa.table({
        "txn_id": [r[0] for r in rows], "card_id": ["c1"] * len(rows),
        "decision": [r[1] for r in rows], "explored": [False] * len(rows),
        "propensity": [1.0] * len(rows), "ts_ms": [r[2] * DAY + i for i, r in enumerate(rows)],
        "amount": [10.0] * len(rows), "merchant_id": ["m1"] * len(rows),
        "terminal_id": ["m1-t1"] * len(rows),
    })  # fmt: skip


def test_an_arm_s_labels_period_by_period_are_the_bank_s_labels_of_its_whole_log() -> None:
    from fraudguard.config import OutcomesSettings
    from fraudguard.outcomes import BankOutcomes, bank_labels
    from fraudguard.outcomes.files import decision_facts

    settings = OutcomesSettings(review_capacity_per_day=2, review_error_rate=0.0)
    periods = [
        facts_table([("t1", "review", 0), ("t2", "approve", 0), ("t3", "block", 0)]),
        facts_table([("t4", "review", 1), ("t5", "review", 1), ("t6", "review", 1)]),
    ]
    truth = {"t1", "t2", "t3", "t5", "t6"}
    arm = loop.Arm("naive", "v1", BUILTIN_TIERS, BankOutcomes(settings))
    for table in periods:
        arm.add(table, truth)
    whole = bank_labels(decision_facts(pa.concat_tables(periods)), truth, settings)
    assert sorted(arm.labels, key=lambda x: x.txn_id) == sorted(whole, key=lambda x: x.txn_id)
    # The third review of day 1 is past the capacity; the blocked fraud is never learnt.
    assert set(arm.known()) == {"t1", "t2", "t4", "t5"}
    assert arm.known()["t4"][0] == "legit" and arm.models == ["v1", "v1"]
    fed = arm.fraud_before(200 * DAY)
    assert {x.txn_id for x in fed} == {"t1", "t2", "t5"}
    assert [x.reported_ms for x in fed] == sorted(x.reported_ms for x in fed)
    assert all(x.terminal_id == "m1-t1" for x in fed)
    # A review's verdict comes within 48 hours, a chargeback days later: only verdicts by then.
    assert [x.txn_id for x in arm.fraud_before(3 * DAY)] == ["t1", "t5"]
    assert arm.fraud_before(0) == []


def test_source_cuts_the_file_after_a_period_s_last_payment(
    tmp_path: Path,
) -> None:
    lines = [
        '{"txn_id": "t1", "event_time": "2026-01-05T10:00:00Z", "terminal_id": "m1-t1"}\n',
        '{"txn_id": "t2", "event_time": "2026-01-06T09:00:00.5Z", "terminal_id": "m2-t4"}\n',
        '{"txn_id": "t3", "event_time": "2026-01-05T23:00:00Z", "terminal_id": "m1-t1"}\n',
        '{"txn_id": "t4", "event_time": "2026-01-07T00:00:00Z", "terminal_id": "m3-t1"}\n',
    ]
    path = tmp_path / "transactions.jsonl"
    path.write_text("".join(lines))
    source = loop.Source.read(path)
    jan6 = int(source.ts_ms[0]) - 10 * 3_600_000 + DAY
    # t3 (late, in file order after t2) belongs to Jan 5th: the cut keeps every line before it.
    assert source.prefix(jan6, tmp_path / "a").read_text() == "".join(lines[:3])
    assert source.prefix(jan6 + DAY, tmp_path / "b").read_text() == "".join(lines[:3])
    assert source.prefix(jan6 - DAY, tmp_path / "c").read_text() == ""


def test_a_retrained_model_s_tiers_stop_the_initial_shares_of_the_arm_s_last_week() -> None:
    from fraudguard.config import OutcomesSettings
    from fraudguard.outcomes import BankOutcomes
    from fraudguard.training import booster
    from fraudguard.training.booster import BoosterParams

    rng = np.random.default_rng(7)
    n, days = 20_000, 10
    X = rng.normal(size=(n, len(FEATURE_NAMES))).astype(np.float32)
    y = (X[:, 0] + rng.normal(scale=0.5, size=n) > 2.5).astype(np.int8)
    params = BoosterParams(n_estimators=10, nthread=1)
    model = booster.fit(booster.matrix(X, y, params, names=FEATURE_NAMES), params, 10.0)
    features = pa.StructArray.from_arrays(
        [pa.array(X[:, j].astype(np.float64)) for j in range(X.shape[1])],
        fields=list(FEATURES_TYPE),
    )
    ts = np.sort(rng.integers(0, days * DAY, n))
    arm = loop.Arm("naive", "v1", BUILTIN_TIERS, BankOutcomes(OutcomesSettings()))
    ids = [f"t{i}" for i in range(n)]
    arm.tables.append(pa.table({"txn_id": ids, "ts_ms": ts, "card_id": ids, "features": features,
                                "feature_version": [FEATURE_SET_VERSION] * n}))  # fmt: skip
    tiers = loop.refit_tiers(arm, model, BUILTIN_TIERS, cutoff=days * DAY, day=days)
    recent = ts >= (days - loop.RECENT_DAYS) * DAY
    scores = booster.predict(model, X[recent])
    assert (scores >= tiers.review).mean() == pytest.approx(loop.STOP_SHARE, abs=2e-3)
    assert (scores >= tiers.block).mean() == pytest.approx(loop.BLOCK_SHARE, abs=1e-3)
    assert tiers.version == "builtin-v1-naive-d10"
    assert arm.refits == [{"day": days, "review": tiers.review, "block": tiers.block,
                           "payments": int(recent.sum())}]  # fmt: skip
