"""The report's streaming tallies against brute force over the same rows: the threshold sweep,
the average precision, the cost curve, card precision@k and the per-group counts."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from fraudguard.reports.tally import BINS, CardsAtK, GroupTally, ScoreBins, label_codes

RNG = np.random.default_rng(5)


def rows(n: int = 20_000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scores on the bins' grid (so a sweep is exact), labels that follow them, amounts."""
    fraud = RNG.random(n) < 0.05
    score = np.clip(RNG.normal(np.where(fraud, 0.7, 0.3), 0.15), 0, 1)
    score = np.floor(score * BINS) / BINS
    label = np.where(fraud, 1, 0).astype(np.int8)
    label[RNG.random(n) < 0.02] = -1  # immature
    return score, label, RNG.lognormal(3, 1, n)


def test_the_sweep_equals_counting_every_row() -> None:
    score, label, amount = rows()
    bins = ScoreBins()
    for part in np.array_split(np.arange(len(score)), 7):  # batches add up to the whole
        bins.add(score[part], label[part], amount[part])
    for t in (0.0, 0.25, 0.5, 0.731, 0.9, 1.0):
        flagged = score >= t
        tp = int((flagged & (label == 1)).sum())
        fp = int((flagged & (label == 0)).sum())
        row = bins.at(t)
        assert row["flagged"] == int(flagged.sum())
        assert (row["fraud_caught"], row["false_positives"]) == (tp, fp)
        assert row["recall"] == pytest.approx(tp / (label == 1).sum(), abs=1e-5)
        assert row["false_positive_rate"] == pytest.approx(fp / (label == 0).sum(), abs=1e-5)
        assert row["euro_caught"] == pytest.approx(amount[flagged & (label == 1)].sum(), abs=0.01)


def test_average_precision_equals_scikit_learns_on_the_labelled_rows() -> None:
    score, label, amount = rows()
    bins = ScoreBins()
    bins.add(score, label, amount)
    known = label >= 0  # immature rows are left out, as the report says
    expected = average_precision_score(label[known], score[known])
    assert bins.pr_curve()["average_precision"] == pytest.approx(expected, abs=1e-4)


def test_the_cost_curve_prices_blocks_reviews_and_caught_fraud() -> None:
    score = np.array([0.95, 0.85, 0.6, 0.55, 0.1])
    label = np.array([1, 0, 1, 0, 1], np.int8)
    amount = np.array([100.0, 50.0, 30.0, 20.0, 10.0])
    bins = ScoreBins()
    bins.add(score, label, amount)
    curve = bins.cost_curve(review=0.5, block=0.8, cost_fp=2.0, cost_review=4.0)
    # block >= 0.8: fraud 100 blocked, legit 0.85 blocked (2), 0.6 and 0.55 reviewed (8),
    # the 30 of fraud reviewed and found: 130 - 2 - 8
    assert curve["net_eur_in_force"] == 120.0
    at = dict(zip(curve["block_threshold"], curve["net_eur"], strict=True))
    assert at[0.9] == 130 - 0 - 3 * 4  # one block (fraud), three reviews
    assert at[0.5] == 130 - 2 * 2  # everything from 0.5 blocked: two legit, no review
    assert at[0.0] == 140 - 2 * 2  # everything blocked
    assert curve["best_block_threshold"] == 0.0


def test_card_precision_at_k_ranks_cards_by_their_riskiest_payment_of_the_day() -> None:
    at_k = CardsAtK(k=2)
    day = np.array([0, 0, 0, 0, 1, 1])
    card = np.array(["a", "a", "b", "c", "a", "b"], object)
    score = np.array([0.1, 0.9, 0.8, 0.85, 0.2, 0.3])
    label = np.array([1, 0, 0, 0, 0, 1], np.int8)
    at_k.add(day, card, score, label)
    # day 0: a (0.9, a fraud earlier that day) and c (0.85) are the top two: one of two
    # day 1: b and a: one of two
    assert at_k.finish() == {0: 0.5, 1: 0.5}


def test_a_day_closed_before_its_decisions_arrive_counts_them_as_late() -> None:
    at_k = CardsAtK(k=1)
    at_k.add(np.array([0, 3]), np.array(["a", "b"], object), np.array([0.5, 0.5]),
             np.array([1, 0], np.int8))  # fmt: skip
    at_k.add(np.array([0]), np.array(["c"], object), np.array([0.9]), np.array([0], np.int8))
    assert at_k.finish() == {0: 1.0, 3: 0.0}
    assert at_k.late_rows == 1


def test_group_counts_equal_counting_every_row() -> None:
    score, label, amount = rows(5_000)
    key = RNG.choice(np.array(["FR", "DE", "GB"], object), len(score))
    decision = np.digitize(score, [0.5, 0.8]).astype(np.int8)
    explored = RNG.random(len(score)) < 0.01
    tally = GroupTally()
    tally.add(key[:2_000], decision[:2_000], explored[:2_000], label[:2_000], amount[:2_000])
    tally.add(key[2_000:], decision[2_000:], explored[2_000:], label[2_000:], amount[2_000:])
    for country, row in tally.rows().items():
        mine = key == country
        assert row["transactions"] == int(mine.sum())
        assert row["review"] == int((mine & (decision == 1)).sum())
        assert row["fraud_caught"] == int((mine & (label == 1) & (decision > 0)).sum())
        assert row["false_positives"] == int((mine & (label == 0) & (decision > 0)).sum())
        assert row["immature"] == int((mine & (label == -1)).sum())
        assert row["explored"] == int((mine & explored).sum())
        missed = amount[mine & (label == 1) & (decision == 0)].sum()
        assert row["euro_missed"] == pytest.approx(missed, abs=0.01)


def test_a_label_reported_after_the_cut_off_is_immature_and_no_label_is_legitimate() -> None:
    import pyarrow as pa

    codes = label_codes(pa.array([None, "fraud", None, "legit"]), pa.array([9, 1, None, 2]))
    assert codes.tolist() == [-1, 1, 0, 0]
    assert label_codes(None, None) is None
