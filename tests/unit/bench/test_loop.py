"""The pieces of bench/loop.py (its --small run takes over two minutes, too long for the unit
tests): recall per day at the review budget, and the days to recover after a drift."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from fraudguard.backtest.decide import FEATURES_TYPE
from fraudguard.features import FEATURE_NAMES

loop = pytest.importorskip("loop")
DAY = 86_400_000


def decisions(scores: list[float], days: list[int], amounts: list[float]) -> pa.Table:
    n = len(scores)
    columns = [pa.array([amounts[i] if name == "txn_amount_eur" else 0.0 for i in range(n)])
               for name in FEATURE_NAMES]  # fmt: skip
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
    later = loop.measure(table, truth, sim_from=DAY, budget=2)
    assert later["frauds_per_day"] == [2] and later["decisions"] == 3


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
