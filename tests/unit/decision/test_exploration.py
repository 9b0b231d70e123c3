"""Exploration over 100,000 decisions: the share holds, the caps hold in every window, the
choice repeats on replay, and the propensity says what the action's probability was."""

from __future__ import annotations

import math
import pickle
import random
from collections import defaultdict
from dataclasses import dataclass

import pytest

from fraudguard.decision.exploration import Exploration, ExplorationPolicy, ExposureState, draw
from fraudguard.errors import ConfigError

N = 100_000
MINUTE = 60_000


@dataclass(frozen=True)
class Decided:
    txn_id: str
    ts_ms: int
    decision: str
    amount_eur: float


def synthetic(n: int = N, seed: int = 0, per_second: float = 20.0) -> list[Decided]:
    """``n`` decisions in event-time order: 70% approve, 20% review, 10% block."""
    rng = random.Random(seed)
    ts = 1_795_428_000_000
    rows = []
    for i in range(n):
        ts += int(rng.expovariate(per_second) * 1000)
        decision = rng.choices(("approve", "review", "block"), (0.7, 0.2, 0.1))[0]
        rows.append(Decided(f"t{i:07d}", ts, decision, round(rng.lognormvariate(3.5, 1.0), 2)))
    return rows


def run(policy: ExplorationPolicy, rows: list[Decided]) -> list[Exploration]:
    state = policy.new_state()
    return [policy.apply(state, r.decision, r.txn_id, r.ts_ms, r.amount_eur) for r in rows]


UNCAPPED = ExplorationPolicy(0.01, 42, 10**9, 1e12, MINUTE)
ROWS = synthetic()


def test_released_share_is_within_three_sigma_of_share() -> None:
    results = run(UNCAPPED, ROWS)
    stopped = [r.decision != "approve" for r in ROWS]
    eligible = sum(stopped)
    released = sum(x.explored for x in results)
    sigma = math.sqrt(eligible * 0.01 * 0.99)
    assert abs(released - 0.01 * eligible) <= 3 * sigma, (released, eligible)
    # Only would-be reviews and blocks are released, and a release is an approval.
    for row, result in zip(ROWS, results, strict=True):
        if result.explored:
            assert row.decision != "approve" and result.decision == "approve"
        else:
            assert result.decision == row.decision


def test_propensity_is_the_probability_of_the_action_taken() -> None:
    for row, result in zip(ROWS, run(UNCAPPED, ROWS), strict=True):
        if row.decision == "approve":
            assert result.propensity == 1.0
        elif result.explored:
            assert result.propensity == 0.01
        else:
            assert result.propensity == 0.99
    # Inverse-propensity weighting recovers the eligible population from either action:
    # released rows weighted 1/share and kept rows weighted 1/(1 - share) each add up to it.
    pairs = zip(ROWS, run(UNCAPPED, ROWS), strict=True)
    eligible = [x for r, x in pairs if r.decision != "approve"]
    for explored in (True, False):
        weighted = sum(1 / x.propensity for x in eligible if x.explored is explored)
        assert abs(weighted - len(eligible)) < 3 * math.sqrt(len(eligible) * 99), explored


def test_draws_are_uniform() -> None:
    draws = [draw(3, f"t{i}") for i in range(N)]
    assert all(0.0 <= d < 1.0 for d in draws)
    counts = [0] * 20
    for d in draws:
        counts[int(d * 20)] += 1
    expected = N / 20
    chi2 = sum((c - expected) ** 2 / expected for c in counts)
    assert chi2 < 43.8  # 99.9th percentile of chi-squared with 19 degrees of freedom


def test_caps_hold_in_every_window_and_bind() -> None:
    policy = ExplorationPolicy(0.2, 7, max_count_per_window=5, max_amount_eur_per_window=400.0,
                               window_ms=MINUTE)  # fmt: skip
    results = run(policy, ROWS)
    count: defaultdict[int, int] = defaultdict(int)
    cents: defaultdict[int, int] = defaultdict(int)
    for row, result in zip(ROWS, results, strict=True):
        if result.explored:
            window = row.ts_ms // MINUTE
            count[window] += 1
            cents[window] += round(row.amount_eur * 100)
    assert max(count.values()) <= 5 and max(cents.values()) <= 40_000
    # The caps were reached (the test means something) ...
    assert sum(c == 5 for c in count.values()) > 50
    assert max(cents.values()) > 35_000
    # ... and a stopped transaction the caps kept from the draw is recorded as not eligible.
    capped = [
        (row, result)
        for row, result in zip(ROWS, results, strict=True)
        if row.decision != "approve" and result.propensity == 1.0
    ]
    assert len(capped) > 1000
    assert any(draw(7, row.txn_id) < 0.2 for row, _ in capped)


def test_same_seed_and_ids_repeat_and_another_seed_differs() -> None:
    first = run(UNCAPPED, ROWS)
    assert run(UNCAPPED, ROWS) == first
    released = {r.txn_id for r, x in zip(ROWS, first, strict=True) if x.explored}
    other = ExplorationPolicy(0.01, 43, 10**9, 1e12, MINUTE)
    released_other = {r.txn_id for r, x in zip(ROWS, run(other, ROWS), strict=True) if x.explored}
    assert len(released) > 100 and len(released_other) > 100
    # Independent draws overlap in about 1% of releases.
    assert len(released & released_other) < 0.05 * len(released)


def test_restoring_pickled_state_mid_stream_repeats_the_same_releases() -> None:
    policy = ExplorationPolicy(0.2, 7, 5, 400.0, MINUTE)
    state = policy.new_state()
    head, tail = ROWS[:50_000], ROWS[50_000:]
    for r in head:
        policy.apply(state, r.decision, r.txn_id, r.ts_ms, r.amount_eur)
    checkpoint = pickle.dumps(state)
    assert len(checkpoint) < 150
    after = [policy.apply(state, r.decision, r.txn_id, r.ts_ms, r.amount_eur) for r in tail]
    restored: ExposureState = pickle.loads(checkpoint)
    again = [policy.apply(restored, r.decision, r.txn_id, r.ts_ms, r.amount_eur) for r in tail]
    assert again == after == run(policy, ROWS)[50_000:]
    assert pickle.loads(pickle.dumps(policy)) == policy


def test_late_transaction_is_not_released() -> None:
    policy = ExplorationPolicy(1.0, 1, 100, 1e6, MINUTE)
    state = policy.new_state()
    assert policy.apply(state, "block", "a", 2 * MINUTE, 10.0).explored
    late = policy.apply(state, "block", "b", MINUTE + 5, 10.0)
    assert late == Exploration("block", False, 1.0)
    assert state.window == 2 and state.count == 1


def test_one_payment_above_the_amount_cap_is_never_released() -> None:
    policy = ExplorationPolicy(1.0, 1, 100, 50.0, MINUTE)
    state = policy.new_state()
    assert policy.apply(state, "review", "a", 0, 50.01) == Exploration("review", False, 1.0)
    assert policy.apply(state, "review", "b", 0, 50.0) == Exploration("approve", True, 1.0)


def test_share_zero_releases_nothing() -> None:
    results = run(ExplorationPolicy(0.0, 1, 100, 1e6, MINUTE), ROWS[:5000])
    assert not any(x.explored for x in results)
    assert {x.propensity for x in results} == {1.0}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"share": 1.5}, "share: 1.5 must be in"),
        ({"share": float("nan")}, "share: nan must be in"),
        ({"seed": -1}, "seed: -1 must be in"),
        ({"seed": 2**64}, "seed: 18446744073709551616 must be in"),
        ({"seed": "s"}, "seed: 's' must be an integer"),
        ({"max_count_per_window": -1}, "max_count_per_window: -1 must be"),
        ({"max_amount_eur_per_window": float("inf")}, "max_amount_eur_per_window: inf must be"),
        ({"window_ms": 0}, "window_ms: 0 must be positive"),
    ],
)
def test_invalid_policy_is_refused(fields: dict[str, object], message: str) -> None:
    good: dict[str, object] = {
        "share": 0.01, "seed": 1, "max_count_per_window": 10,
        "max_amount_eur_per_window": 100.0, "window_ms": MINUTE,
    }  # fmt: skip
    with pytest.raises(ConfigError, match=f"exploration {message}"):
        ExplorationPolicy(**{**good, **fields})  # type: ignore[arg-type]
