"""A transaction factory for the tiers tests: only the segment fields vary."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from fraudguard.wire.transactions import Transaction

MakeTxn = Callable[..., Transaction]


@pytest.fixture
def make_txn() -> MakeTxn:
    def make(
        txn_id: str = "t1",
        amount: float = 20.0,
        currency: str = "EUR",
        mcc: str = "5411",
        channel: str = "card_present",
    ) -> Transaction:
        return Transaction(
            txn_id, "2026-11-23T10:00:00Z", 1_795_428_000_000, "c1", "u1", "m1", "m1-t1",
            amount, currency, mcc, "FR", channel, None,
        )  # fmt: skip

    return make
