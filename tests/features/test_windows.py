"""Window state against a brute-force reading of the definition: a transaction at ``t`` sees
its entity's events with ``t - W < ts < t`` plus itself; raw windows exactly, minute buckets
over whole minutes."""

from __future__ import annotations

import random

import pytest

from fraudguard.features.windows import MINUTE_MS, BucketWindows, RawEventWindows

HOUR = 3_600_000


def events(seed: int, n: int = 600) -> list[tuple[int, float, str]]:
    rng = random.Random(seed)
    ts, out = 0, []
    for _ in range(n):
        # Bursts of simultaneous events, seconds apart, and long gaps.
        ts += rng.choice([0, 0, 1, 500, 20_000, 90_000, 2 * HOUR])
        out.append((ts, round(rng.uniform(1, 500), 2), f"c{rng.randrange(12)}"))
    return out


def brute(history: list[tuple[int, float, str]], t: int, amount: float, key: str, lo_ms: int):
    inside = [e for e in history if lo_ms < e[0] < t]
    amounts = [e[1] for e in inside] + [amount]
    return len(amounts), round(sum(amounts), 6), len({e[2] for e in inside} | {key})


@pytest.mark.parametrize("seed", range(5))
def test_raw_windows_match_the_definition(seed: int) -> None:
    state, seen = RawEventWindows(horizon_ms=24 * HOUR), []
    for t, amount, key in events(seed):
        lo, hi = state.window(t, HOUR)
        got = (hi - lo + 1, round(sum(state.column(0, lo, hi)) + amount, 6))
        assert got == brute(seen, t, amount, key, t - HOUR)[:2]
        state.add(t, (amount, key))
        seen.append((t, amount, key))


WINDOWS = ((HOUR, MINUTE_MS), (24 * HOUR, 5 * MINUTE_MS), (7 * 24 * HOUR, 30 * MINUTE_MS))


def assert_whole_buckets(got: list, seen: list, t: int, amount: float, key: str) -> None:
    for (count, total, distinct), (window, bucket) in zip(got, WINDOWS, strict=True):
        # Whole buckets: the window starts at the bucket after the one of t - W.
        lo_ms = (t // bucket - window // bucket + 1) * bucket - 1
        want = brute(seen, t, amount, key, lo_ms)
        assert (count, pytest.approx(total, abs=1e-6), distinct) == want


@pytest.mark.parametrize("seed", range(5))
def test_buckets_match_the_definition_over_whole_buckets(seed: int) -> None:
    state, seen = BucketWindows(WINDOWS), []
    for t, amount, key in events(seed):
        assert_whole_buckets(state.add(t, amount, key), seen, t, amount, key)
        seen.append((t, amount, key))


@pytest.mark.parametrize("seed", range(3))
def test_simultaneous_events_see_the_same_values_in_any_order(seed: int) -> None:
    stream = events(seed)
    rng = random.Random(seed)  # one generator: a new one per key gave every event the same
    shuffled = sorted(stream, key=lambda e: (e[0], rng.random()))
    assert shuffled != stream  # the bursts of simultaneous events really were reordered

    def run(order: list[tuple[int, float, str]]) -> dict:
        state = BucketWindows(WINDOWS)
        return {(t, a, k): state.add(t, a, k)[0][::2] for t, a, k in order}

    assert run(stream) == run(shuffled)


def test_buckets_stay_bounded_for_a_busy_merchant() -> None:
    state = BucketWindows(WINDOWS)
    for i in range(200_000):  # 100,000 a day for two days
        state.add(i * 864, 10.0, f"c{i % 50_000}")
    assert [len(s.buckets) for s in state.series] == [60, 288, 96]
    count_24h = state.add(200_000 * 864, 10.0, "c1")[1][0]
    # Exactly 100,000 in (t - 24 h, t]; whole 5-minute buckets leave out at most 5 minutes' 348.
    assert 100_000 - 348 <= count_24h <= 100_000


@pytest.mark.parametrize("seed", range(5))
def test_a_transaction_later_than_a_window_leaves_the_window_exact(seed: int) -> None:
    """A late event outside every window used to be held in its bucket; the next advance then
    subtracted totals that were never added (count short by one, sum below zero)."""
    rng = random.Random(seed)
    state, seen, t = BucketWindows(WINDOWS), [], 0
    for i in range(400):
        t += rng.choice([1, 20_000, 90_000, 15 * MINUTE_MS])
        amount, key = round(rng.uniform(1, 500), 2), f"c{rng.randrange(12)}"
        if i % 37 == 36:  # hours or days late: outside the hour, sometimes the day and week too
            late = t - rng.choice([2 * HOUR, 30 * HOUR, 8 * 24 * HOUR])
            state.add(late, amount, key)  # its own values: the windows as they stand (policy)
            seen.append((late, amount, key))
            continue
        assert_whole_buckets(state.add(t, amount, key), seen, t, amount, key)
        seen.append((t, amount, key))
