"""The three keyed steps a transaction's features go through, shared by the job and offline.

The job runs each step in a keyed operator (by card, by merchant, by device) with the state in
Flink; :func:`fraudguard.features.offline.build_features` runs them in a loop with the states
in dictionaries. Each step receives its entity's transactions in ``(ts_ms, txn_id)`` order.
"""

from __future__ import annotations

from collections.abc import Hashable, MutableMapping
from dataclasses import dataclass

from fraudguard.dedupe import SeenTransactions
from fraudguard.features.engine import FeatureEngine, Features
from fraudguard.features.windows import BucketWindows, RawEventWindows
from fraudguard.schema import Transaction


@dataclass(slots=True)
class CardState:
    """Everything kept per card: the ids already answered and the card's recent payments."""

    seen: SeenTransactions
    history: RawEventWindows


class CardStep:
    """Per card: drop retried ids, then transaction-level and card features."""

    def __init__(self, engine: FeatureEngine, dedupe_ttl_ms: int) -> None:
        self.engine = engine
        self.dedupe_ttl_ms = dedupe_ttl_ms

    def new_state(self) -> CardState:
        return CardState(SeenTransactions(self.dedupe_ttl_ms), self.engine.new_card_state())

    def __call__(self, state: CardState, txn: Transaction) -> Features | None:
        """The features so far, or None for a transaction id already answered."""
        if not state.seen.first_time(txn.txn_id, txn.ts_ms):
            return None
        features = self.engine.txn(txn)
        features.update(self.engine.card(state.history, txn))
        return features


class MerchantStep:
    """Per merchant: merchant features and, with the same key, those of its terminals."""

    def __init__(self, engine: FeatureEngine) -> None:
        self.engine = engine

    def new_merchant_state(
        self, last_seen: MutableMapping[Hashable, int] | None = None
    ) -> BucketWindows:
        return self.engine.new_bucket_state("merchant", last_seen)

    def new_terminal_state(
        self, last_seen: MutableMapping[Hashable, int] | None = None
    ) -> BucketWindows:
        return self.engine.new_bucket_state("terminal", last_seen)

    def __call__(
        self, merchant: BucketWindows, terminal: BucketWindows, txn: Transaction
    ) -> Features:
        features = self.engine.merchant(merchant, txn)
        features.update(self.engine.terminal(terminal, txn))
        return features


class DeviceStep:
    """Per device: how many cards it has paid with."""

    def __init__(self, engine: FeatureEngine) -> None:
        self.engine = engine

    def new_state(self) -> RawEventWindows:
        return self.engine.new_device_state()

    def __call__(self, state: RawEventWindows | None, txn: Transaction) -> Features:
        return self.engine.device(state, txn)
