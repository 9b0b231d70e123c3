"""What-if: both tiers decide every row; labels turn decisions into caught and false alarms."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator

import pytest

from fraudguard.decision import BUILTIN_TIERS, Override, ThresholdTiers, what_if
from fraudguard.decision.whatif import Row
from fraudguard.errors import ConfigError
from fraudguard.wire.transactions import Transaction

MakeTxn = Callable[..., Transaction]


def test_counts_agree_with_deciding_each_row(make_txn: MakeTxn) -> None:
    rng = random.Random(1)
    candidate = ThresholdTiers("cand", 0.4, 0.7, (Override("web", 0.3, 0.6, channel="online"),))
    rows: list[Row] = [
        (
            rng.random(),
            make_txn(f"t{i}", channel=rng.choice(["online", "card_present"])),
            None,
            rng.choice(["fraud", "legit", None, True, False]),
        )
        for i in range(2000)
    ]
    result = what_if(iter(rows), candidate=candidate, current=BUILTIN_TIERS)

    assert result.rows == 2000
    for outcome, tiers in ((result.current, BUILTIN_TIERS), (result.candidate, candidate)):
        decided = [tiers.decide(score, txn, f) for score, txn, f, _ in rows]
        assert outcome.version == tiers.version
        assert sum(outcome.decisions.values()) == 2000
        for decision in ("approve", "review", "block"):
            assert outcome.decisions[decision] == sum(d == decision for d, _ in decided)
        assert outcome.tiers == {t: sum(x == t for _, x in decided) for _, t in set(decided)}
        fraud = [d for (d, _), row in zip(decided, rows, strict=True) if row[3] in ("fraud", True)]
        legit = [d for (d, _), row in zip(decided, rows, strict=True) if row[3] in ("legit", False)]
        assert (outcome.fraud, outcome.legit) == (len(fraud), len(legit))
        assert outcome.fraud_caught == sum(d != "approve" for d in fraud)
        assert outcome.fraud_blocked == sum(d == "block" for d in fraud)
        assert outcome.fraud_missed == sum(d == "approve" for d in fraud)
        assert outcome.false_positives == sum(d != "approve" for d in legit)
        assert outcome.legit_blocked == sum(d == "block" for d in legit)
    moved = sum(
        BUILTIN_TIERS.decide(s, t, f)[0] != candidate.decide(s, t, f)[0] for s, t, f, _ in rows
    )
    assert sum(result.changed.values()) == moved > 0
    assert all(a != b for a, b in (k.split("->") for k in result.changed))
    assert result.to_dict()["candidate"]["fraud_missed"] == result.candidate.fraud_missed  # type: ignore[index]


def test_same_tiers_change_nothing(make_txn: MakeTxn) -> None:
    rows: Iterator[Row] = ((i / 10, make_txn(f"t{i}"), None, None) for i in range(11))
    result = what_if(rows, candidate=BUILTIN_TIERS, current=BUILTIN_TIERS)
    assert result.changed == {} and result.current == result.candidate
    assert result.current.decisions == {"approve": 5, "review": 3, "block": 3}
    assert result.current.fraud == result.current.legit == 0


def test_no_rows(make_txn: MakeTxn) -> None:
    result = what_if([], candidate=BUILTIN_TIERS, current=BUILTIN_TIERS)
    assert result.rows == 0 and result.current.decisions == {"approve": 0, "review": 0, "block": 0}


def test_unknown_label_is_refused(make_txn: MakeTxn) -> None:
    rows: list[Row] = [(0.1, make_txn(), None, None), (0.1, make_txn(), None, "stolen")]
    with pytest.raises(ConfigError, match="row 1: label must be"):
        what_if(rows, candidate=BUILTIN_TIERS, current=BUILTIN_TIERS)
