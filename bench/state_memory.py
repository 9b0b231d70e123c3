"""Keyed state per key, measured: a card with 30 days of history, a merchant with 100,000
transactions a day. Prints one JSON line and writes bench/results/state_memory.json.

Sizes are what Flink stores: the pickled bytes of each ValueState (a checkpoint holds these),
plus the merchant's last-seen map entries, which live in Flink map state.
"""

from __future__ import annotations

import json
import pickle
import sys
from datetime import UTC, datetime
from pathlib import Path

from fraudguard.features import CardStep, FeatureEngine, MerchantStep
from fraudguard.schema import Transaction

DAY = 86_400_000


def txn(i: int, ts: int, card: str, merchant: str, amount: float = 42.5) -> Transaction:
    return Transaction(
        f"t{i:010d}", "", ts, card, "u1", merchant, f"{merchant}-t{i % 8}", amount, "EUR",
        "5411", "FR", "online", f"d{card}",
    )  # fmt: skip


def card_state_bytes(per_day: int) -> int:
    step = CardStep(FeatureEngine(), dedupe_ttl_ms=DAY)
    state = step.new_state()
    n = per_day * 30
    for i in range(n):
        step(state, txn(i, i * (30 * DAY // n), "c1", f"m{i % 40}", 10.0 + i % 90))
    return len(pickle.dumps(state))


def merchant_state(per_day: int, days: int = 8) -> dict[str, float]:
    step = MerchantStep(FeatureEngine())
    merchant, terminal = step.new_merchant_state(), step.new_terminal_state()
    n = per_day * days
    for i in range(n):
        # About half the payments come from cards seen before at this merchant.
        card = f"c{i % (per_day * 3)}"
        step(merchant, terminal, txn(i, i * (days * DAY // n), card, "m1"))
    last_seen = len(merchant.last_seen)
    entry = len(pickle.dumps(("m:c0000123", 29_000_000)))  # one map entry, key and value
    return {
        "merchant_value_state_bytes": len(pickle.dumps(merchant)),
        "buckets_per_window": [len(s.buckets) for s in merchant.series],
        "last_seen_entries": last_seen,
        "last_seen_bytes_estimate": last_seen * entry,
    }


def main() -> None:
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "card_30d_2_per_day_bytes": card_state_bytes(2),
        "card_30d_20_per_day_bytes": card_state_bytes(20),
        **{f"merchant_100k_per_day_{k}": v for k, v in merchant_state(100_000).items()},
    }
    out = Path(__file__).parent / "results" / "state_memory.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    sys.exit(main())
