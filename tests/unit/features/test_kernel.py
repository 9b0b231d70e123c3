"""The feature kernel (the JVM code the job and the offline path both run) against a
brute-force reading of each definition: a transaction at ``t`` sees its entity's events with
``t - W < ts < t`` plus itself; card and device windows exactly, merchant and terminal windows
over whole buckets."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace

import pytest

from fraudguard.features import build_features, feature_name
from fraudguard.features.registry import (
    BUCKET_MS,
    FEATURES,
    HISTORY_MS,
    NO_PREVIOUS,
    HistoryFeature,
    WindowFeature,
)
from fraudguard.wire.currency import to_eur
from fraudguard.wire.transactions import Transaction, format_event_time

HOUR, DAY = 3_600_000, 86_400_000
T0 = 1_790_000_000_000


def payments(seed: int, n: int = 1500, merchants: int = 4, devices: int = 5) -> list[Transaction]:
    """A few cards, merchants, terminals and devices; bursts of simultaneous payments, seconds
    apart, and long gaps; several currencies; some payments without a device."""
    rng = random.Random(seed)
    ts, out = T0, []
    for i in range(n):
        ts += rng.choice([0, 0, 1, 500, 20_000, 90_000, 2 * HOUR, 9 * HOUR, 2 * DAY])
        merchant = f"m{rng.randrange(merchants)}"
        device = rng.choice([None, f"d{rng.randrange(devices)}"])
        out.append(Transaction(
            f"t{i:05d}", format_event_time(ts), ts, f"c{rng.randrange(6)}", "u1", merchant,
            f"{merchant}-t{rng.randrange(2)}", round(rng.uniform(1, 900), 2),
            rng.choice(["EUR", "EUR", "GBP", "JPY", "USD"]), "5411", rng.choice(["FR", "FR", "DE"]),
            rng.choice(["online", "card_present"]), device,
        ))  # fmt: skip
    return out


def windows_of(entity: str) -> list[WindowFeature]:
    return [f for f in FEATURES if isinstance(f, WindowFeature) and f.entity == entity]


def exact_window(f: WindowFeature, prior: list[Transaction], txn: Transaction) -> float:
    inside = [p for p in prior if txn.ts_ms - f.window_ms < p.ts_ms < txn.ts_ms] + [txn]
    if f.agg == "count":
        return float(len(inside))
    if f.agg == "distinct":
        return float(len({getattr(p, f.column) for p in inside} - {None}))
    amounts = [to_eur(p.amount, p.currency) for p in inside]
    cents = sum(round(a * 100) for a in amounts)  # sums are exact, in cents
    return {"sum": cents / 100, "mean": round(cents / (100 * len(amounts)), 6)}.get(
        f.agg, float(max(amounts))
    )


def card_history(f: HistoryFeature, prior: list[Transaction], txn: Transaction) -> float:
    before = [p for p in prior if txn.ts_ms - HISTORY_MS < p.ts_ms < txn.ts_ms]
    amount = to_eur(txn.amount, txn.currency)
    if not before:
        defaults = {"seconds_since_last": NO_PREVIOUS, "amount_ratio_30d": 1.0}
        return defaults.get(f.kind, 0.0)
    amounts = [to_eur(p.amount, p.currency) for p in before]
    mean = sum(round(a * 100) for a in amounts) / (100 * len(amounts))
    spread = (sum((a - mean) ** 2 for a in amounts) / len(amounts)) ** 0.5
    countries = Counter(p.country for p in before)
    return {
        "seconds_since_last": (txn.ts_ms - before[-1].ts_ms) / 1000,
        "amount_zscore_30d": (amount - mean) / spread if spread > 0 and len(amounts) > 1 else 0.0,
        "amount_ratio_30d": amount / mean,
        "new_country_30d": float(txn.country not in {p.country for p in before}),
        "new_device_30d": float(
            txn.device_id is not None and txn.device_id not in {p.device_id for p in before}
        ),
        "cross_border": float(countries[txn.country] < max(countries.values())),
    }[f.kind]


@pytest.mark.parametrize(
    ("seed", "merchants", "devices"),
    # few values, then hundreds: a card's merchants and a device's cards outnumber its live
    # events, so the kernel's dictionaries of values drop the ones no event holds any more
    [(0, 4, 5), (1, 4, 5), (2, 4, 5), (3, 400, 300), (4, 2000, 2)],
)
def test_card_and_device_windows_match_the_definition(
    seed: int, merchants: int, devices: int
) -> None:
    txns = payments(seed, 3000 if merchants > 4 else 1500, merchants, devices)
    seen: dict[str, list[Transaction]] = {}
    for txn, got in build_features(txns, dedupe_ttl_ms=DAY):
        card = seen.setdefault(txn.card_id, [])
        for f in windows_of("card"):
            assert got[feature_name(f)] == exact_window(f, card, txn), (txn, f)
        for f in FEATURES:
            if isinstance(f, HistoryFeature):
                # The kernel rounds z-scores and ratios to 6 places; the definition does not.
                want = card_history(f, card, txn)
                assert got[feature_name(f)] == pytest.approx(want, abs=1e-6), (txn, f)
        device = seen.setdefault(f"device:{txn.device_id}", []) if txn.device_id else None
        for f in windows_of("device"):
            want = exact_window(f, device, txn) if device is not None else 0.0
            assert got[feature_name(f)] == want, (txn, f)
        card.append(txn)
        if device is not None:
            device.append(txn)


def whole_buckets(f: WindowFeature, prior: list[Transaction], txn: Transaction) -> float:
    # The window starts at the bucket after the one holding t - W, and ends at t.
    bucket = BUCKET_MS[f.window_ms]
    lo_ms = (txn.ts_ms // bucket - f.window_ms // bucket + 1) * bucket - 1
    inside = [p for p in prior if lo_ms < p.ts_ms < txn.ts_ms] + [txn]
    if f.agg == "count":
        return float(len(inside))
    if f.agg == "distinct":
        return float(len({p.card_id for p in inside}))
    return sum(to_eur(p.amount, p.currency) for p in inside)


def assert_bucketed(txns: list[Transaction], arrival_order: bool = False) -> int:
    """Checks every on-time transaction's merchant and terminal features; returns how many."""
    seen: dict[str, list[Transaction]] = {}
    newest: dict[str, int] = {}
    checked = 0
    for txn, got in build_features(txns, dedupe_ttl_ms=DAY, arrival_order=arrival_order):
        on_time = txn.ts_ms >= newest.get(txn.merchant_id, 0)
        newest[txn.merchant_id] = max(newest.get(txn.merchant_id, 0), txn.ts_ms)
        for entity, key in (("merchant", txn.merchant_id), ("terminal", txn.terminal_id)):
            prior = seen.setdefault(f"{entity}:{key}", [])
            for f in windows_of(entity) if on_time else ():
                want = whole_buckets(f, prior, txn)
                assert got[feature_name(f)] == pytest.approx(want, abs=1e-6), (txn, f)
            prior.append(txn)
        checked += on_time
    return checked


@pytest.mark.parametrize("seed", range(3))
def test_merchant_and_terminal_windows_match_the_definition_over_whole_buckets(seed: int) -> None:
    assert assert_bucketed(payments(seed)) == 1500


@pytest.mark.parametrize("seed", range(3))
def test_a_transaction_later_than_a_window_leaves_the_window_exact(seed: int) -> None:
    """In arrival order (the job's), a late payment outside a window must not disturb it. Its
    bucket used to be held though outside, and the next advance subtracted totals that were
    never added (count short by one, sum below zero, for good)."""
    txns = payments(seed)
    rng = random.Random(seed)
    arrivals = []
    for i, txn in enumerate(txns):
        arrivals.append(txn)
        if i % 37 == 36:  # hours or days late: outside the hour, sometimes the day and week too
            late = txn.ts_ms - rng.choice([2 * HOUR, 30 * HOUR, 8 * DAY])
            arrivals.append(replace(txn, txn_id=f"late{i}", ts_ms=late))
    assert assert_bucketed(arrivals, arrival_order=True) == 1500


@pytest.mark.parametrize("seed", range(2))
def test_simultaneous_payments_see_the_same_values_in_any_order(seed: int) -> None:
    txns = payments(seed)
    rng = random.Random(seed)
    shuffled = sorted(txns, key=lambda t: (t.ts_ms, rng.random()))
    assert [t.txn_id for t in shuffled] != [t.txn_id for t in txns]  # bursts were reordered
    in_order = dict((t.txn_id, f) for t, f in build_features(txns, DAY, arrival_order=True))
    reordered = dict((t.txn_id, f) for t, f in build_features(shuffled, DAY, arrival_order=True))
    assert in_order == reordered


def test_a_retried_id_is_answered_once_within_the_ttl() -> None:
    first = payments(0, n=3)[0]
    retries = [
        replace(first, ts_ms=first.ts_ms + 1),  # a retry a millisecond later: dropped
        replace(first, ts_ms=first.ts_ms + DAY + 1),  # beyond the TTL: answered again
    ]
    answered = [t.ts_ms for t, _ in build_features([first, *retries], dedupe_ttl_ms=DAY)]
    assert answered == [first.ts_ms, first.ts_ms + DAY + 1]
