"""Deciding with tiers: boundaries, first-match precedence, amount bands, unreachable overrides."""

from __future__ import annotations

import itertools
import pickle
import random
from collections.abc import Callable

import pytest

from fraudguard.decision import BUILTIN_TIERS, AmountBand, Override, ThresholdTiers
from fraudguard.decision.decider import Decider
from fraudguard.decision.tiers import AMOUNT_FEATURE, shadowing
from fraudguard.errors import ConfigError
from fraudguard.features import FEATURE_NAMES
from fraudguard.wire.transactions import Transaction

MakeTxn = Callable[..., Transaction]

GAMBLING = Override("gambling", 0.3, 0.6, mcc=frozenset({"7995", "7801"}))
ONLINE = Override("online", 0.4, 0.7, channel="online")
LARGE = Override("large", 0.2, 0.5, amount_eur=AmountBand(1000.0, 5000.0))
TIERS = ThresholdTiers("seg-v1", 0.5, 0.8, (GAMBLING, ONLINE, LARGE))


@pytest.mark.parametrize(
    ("score", "expected"),
    [(0.0, "approve"), (0.4999, "approve"), (0.5, "review"), (0.7999, "review"), (0.8, "block"),
     (1.0, "block")],
)  # fmt: skip
def test_review_from_its_threshold_block_from_its_threshold(score: float, expected: str) -> None:
    assert BUILTIN_TIERS.decide_segment(score, "5411", "online", 10.0) == (expected, "default")


def test_the_first_matching_override_in_order_applies(make_txn: MakeTxn) -> None:
    # An online gambling payment of 2000 EUR matches all three overrides: gambling is first.
    txn = make_txn(mcc="7995", channel="online", amount=2000.0)
    assert TIERS.decide(0.35, txn) == ("review", "gambling")
    assert TIERS.decide(0.35, make_txn(channel="online", amount=2000.0)) == ("approve", "online")
    assert TIERS.decide(0.35, make_txn(amount=2000.0)) == ("review", "large")
    assert TIERS.decide(0.35, make_txn()) == ("approve", "default")


def test_amount_band_includes_min_excludes_max_and_reads_the_euro_feature(
    make_txn: MakeTxn,
) -> None:
    assert TIERS.decide(0.3, make_txn(amount=1000.0))[1] == "large"
    assert TIERS.decide(0.3, make_txn(amount=5000.0))[1] == "default"
    assert TIERS.decide(0.3, make_txn(amount=999.99))[1] == "default"
    # Without features the amount is converted like the features convert it (160 JPY = 1 EUR).
    assert TIERS.decide(0.3, make_txn(amount=320_000.0, currency="JPY"))[1] == "large"
    # With features, the logged euro amount is what the band reads.
    assert TIERS.decide(0.3, make_txn(amount=1.0), {AMOUNT_FEATURE: 1500.0})[1] == "large"
    assert AMOUNT_FEATURE in FEATURE_NAMES


def test_nan_score_goes_to_review() -> None:
    assert TIERS.decide_segment(float("nan"), "7995", "online", 1.0) == ("review", "gambling")


def test_decider_records_the_tier_and_the_version(make_txn: MakeTxn) -> None:
    record = Decider(TIERS).decide(make_txn(mcc="7995", amount=500.0), {}, now_ms=1)
    # Rule score for a 500 EUR card-present payment is 0.17; gambling does not review it.
    assert (record.decision, record.tier, record.threshold_version) == (
        "approve",
        "gambling",
        "seg-v1",
    )
    assert Decider().decide(make_txn(), {}, now_ms=1).tier == "default"


def test_tiers_pickle_for_flink_state() -> None:
    assert pickle.loads(pickle.dumps(TIERS)) == TIERS


@pytest.mark.parametrize(
    ("overrides", "path", "fragment"),
    [
        ((Override("x", 0.6, 0.5, channel="online"),), "overrides[0].block", "above review"),
        ((Override("x", 0.5, 1.5, channel="online"),), "overrides[0].block", "in [0, 1]"),
        ((Override("default", 0.1, 0.5, channel="online"),), "overrides[0].name", "default"),
        ((ONLINE, Override("online", 0.1, 0.5, mcc=frozenset({"5411"}))), "overrides[1].name",
         "already the name of overrides[0]"),
        ((Override("x", 0.1, 0.5),), "overrides[0]", "sets no segment key"),
        ((Override("x", 0.1, 0.5, mcc=frozenset()),), "overrides[0].mcc", "is empty"),
        ((Override("x", 0.1, 0.5, mcc=frozenset({"59"})),), "overrides[0].mcc", "four-digit"),
        ((Override("x", 0.1, 0.5, channel="atm"),), "overrides[0].channel", "card_present"),
        ((Override("x", 0.1, 0.5, amount_eur=AmountBand(-1.0, 5.0)),),
         "overrides[0].amount_eur.min", ">= 0"),
        ((Override("x", 0.1, 0.5, amount_eur=AmountBand(5.0, 5.0)),),
         "overrides[0].amount_eur.max", "above min"),
        ((Override("x", 0.1, 0.5, amount_eur=AmountBand()),), "overrides[0].amount_eur",
         "matches every amount"),
        ((ONLINE, Override("web2", 0.1, 0.5, channel="online")), "overrides[1]",
         "matched first by 'online'"),
        ((ONLINE, Override("shop", 0.1, 0.5, channel="card_present"), LARGE), "overrides[2]",
         "matched first by 'online', 'shop'"),
    ],
)  # fmt: skip
def test_invalid_overrides_are_refused_naming_the_field(
    overrides: tuple[Override, ...], path: str, fragment: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        ThresholdTiers("v1", 0.5, 0.8, overrides)
    message = str(caught.value)
    assert message.startswith(f"thresholds 'v1': {path}: "), message
    assert fragment in message


@pytest.mark.parametrize(
    ("version", "review", "block", "path"),
    [("v", -0.1, 0.8, "review"), ("v", 0.5, 1.01, "block"), ("v", 0.8, 0.8, "block"),
     ("v", float("nan"), 0.8, "review"), ("", 0.5, 0.8, "version"), ("a b", 0.5, 0.8, "version"),
     ("v", True, 0.8, "review")],
)  # fmt: skip
def test_invalid_default_tier_is_refused(
    version: str, review: float, block: float, path: str
) -> None:
    with pytest.raises(ConfigError, match=rf"^thresholds '[^']*': {path}: "):
        ThresholdTiers(version, review, block)


def test_partial_overlap_is_allowed_and_resolved_by_order() -> None:
    # Online gambling matches both; neither covers the other, so both can apply.
    ThresholdTiers("v", 0.5, 0.8, (GAMBLING, ONLINE))
    ThresholdTiers("v", 0.5, 0.8, (ONLINE, GAMBLING))


_POOL = ("1111", "2222", "3333", "4444")
_EDGES = (0.0, 10.0, 100.0, 1000.0)
_PROBE_AMOUNTS = (0.0, 5.0, 10.0, 50.0, 100.0, 500.0, 1000.0, 5000.0)


def _random_override(rng: random.Random, name: str) -> Override:
    mcc = frozenset(rng.sample(_POOL, rng.randint(1, 3))) if rng.random() < 0.5 else None
    channel = rng.choice(["online", "card_present"]) if rng.random() < 0.4 else None
    band = None
    if rng.random() < 0.6:
        low, high = sorted(rng.sample([*_EDGES, float("inf")], 2))
        band = AmountBand(low, high) if (low, high) != (0.0, float("inf")) else None
    if mcc is None and channel is None and band is None:
        channel = "online"
    return Override(name, 0.1, 0.5, mcc=mcc, channel=channel, amount_eur=band)


def test_shadowing_agrees_with_brute_force_on_random_override_lists() -> None:
    # Every cell of the segment space has a probe (each edge and a point between two edges),
    # so an override is reachable exactly when it is the first match for some probe.
    rng = random.Random(4)
    shadowed_seen = reachable_seen = 0
    for case in range(400):
        overrides = [_random_override(rng, f"o{case}-{i}") for i in range(rng.randint(2, 5))]
        first = set()
        for channel, mcc, amount in itertools.product(
            ("online", "card_present"), (*_POOL, "9999"), _PROBE_AMOUNTS
        ):
            hit = next((o for o in overrides if o.matches(mcc, channel, amount)), None)
            if hit is not None:
                first.add(hit.name)
        for i, override in enumerate(overrides):
            covering = shadowing(override, overrides[:i])
            assert bool(covering) == (override.name not in first), (overrides, i)
            shadowed_seen += bool(covering)
            reachable_seen += not covering
    assert shadowed_seen > 50 and reachable_seen > 50


def test_columns_decide_exactly_as_one_row_at_a_time() -> None:
    """The what-if's vectorised rule is the job's rule: every row, every override, NaN too."""
    import numpy as np

    from fraudguard.config import PROJECT_ROOT
    from fraudguard.decision import load_tiers
    from fraudguard.decision.tiers import DECISION_CODES

    tiers = load_tiers(PROJECT_ROOT / "thresholds" / "segments-example.yaml")
    rng = np.random.default_rng(7)
    n = 20_000
    scores = rng.random(n)
    scores[rng.random(n) < 0.01] = np.nan
    scores[:200] = rng.choice([o.review for o in tiers.overrides] + [tiers.block], 200)
    mcc = rng.choice(["5411", "5732", "5944", "5818", "8398", "4899", "7995"], n)
    channel = rng.choice(["online", "card_present"], n)
    amount = np.round(rng.lognormal(4, 1.5, n), 2)
    amount[:300] = rng.choice([5.0, 4.99, 30.0, 29.99, 1000.0, 999.99], 300)
    decisions, tier = tiers.decide_columns(scores, mcc, channel, amount)
    names = tiers.tier_names()
    for i in range(n):
        expected = tiers.decide_segment(float(scores[i]), str(mcc[i]), str(channel[i]), amount[i])
        assert (DECISION_CODES[decisions[i]], names[tier[i]]) == expected, i


def test_tiers_fitted_at_shares_stop_and_block_those_shares_whatever_the_scale() -> None:
    import numpy as np

    from fraudguard.decision.tiers import tiers_at_shares

    rng = np.random.default_rng(4)
    scores = rng.beta(0.5, 20.0, 50_000)
    for scale in (1.0, 0.05):  # a retrained model with a scale of its own
        tiers = tiers_at_shares("refit", scores * scale, stop_share=0.01, block_share=0.002)
        stopped = scores * scale >= tiers.review
        blocked = scores * scale >= tiers.block
        assert stopped.mean() == pytest.approx(0.01, abs=1e-4)
        assert blocked.mean() == pytest.approx(0.002, abs=1e-4)
        # The same payments are stopped and blocked at either scale: only the ranking counts.
        assert stopped.sum() == 500 and blocked.sum() == 100


@pytest.mark.parametrize(("stop", "block"), [(0.01, 0.01), (0.01, 0.0), (1.0, 0.2)])
def test_tiers_at_shares_refuses_shares_that_are_no_band(stop: float, block: float) -> None:
    import numpy as np

    from fraudguard.decision.tiers import tiers_at_shares

    with pytest.raises(ConfigError, match="share"):
        tiers_at_shares("refit", np.linspace(0, 1, 100), stop, block)
