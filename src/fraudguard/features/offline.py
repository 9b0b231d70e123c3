"""The offline path: the same steps as the job, over a file, for training and replay.

>>> from fraudguard.generator import GeneratorConfig, PaymentStream
>>> stream = PaymentStream(GeneratorConfig(seed=1, cards=50, merchants=60, days=1))
>>> txns = list(stream.transactions())
>>> rows = list(build_features(txns, dedupe_ttl_ms=86_400_000))
>>> len(rows) == len(txns), len(rows[0][1]) == len(FEATURE_NAMES)
(True, True)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from fraudguard.features.engine import FeatureEngine, Features
from fraudguard.features.registry import FEATURE_NAMES
from fraudguard.features.steps import CardState, CardStep, DeviceStep, MerchantStep
from fraudguard.features.windows import BucketWindows, RawEventWindows
from fraudguard.schema import Transaction


def processing_order(txn: Transaction) -> tuple[int, str]:
    """The order every keyed step sees its entity's transactions in."""
    return txn.ts_ms, txn.txn_id


def build_features(
    transactions: Iterable[Transaction],
    dedupe_ttl_ms: int,
    engine: FeatureEngine | None = None,
) -> Iterator[tuple[Transaction, Features]]:
    """Each transaction with its features, in processing order; retried ids appear once.

    Features come back in :data:`FEATURE_NAMES` order. Ties keep the input order (as the job
    keeps arrival order), so a retry that arrives second is the one dropped.
    """
    engine = engine or FeatureEngine()
    card_step, merchant_step, device_step = (
        CardStep(engine, dedupe_ttl_ms),
        MerchantStep(engine),
        DeviceStep(engine),
    )
    cards: dict[str, CardState] = {}
    merchants: dict[str, BucketWindows] = {}
    terminals: dict[str, BucketWindows] = {}
    devices: dict[str, RawEventWindows] = {}
    for txn in sorted(transactions, key=processing_order):
        card = cards.get(txn.card_id)
        if card is None:
            card = cards[txn.card_id] = card_step.new_state()
        features = card_step(card, txn)
        if features is None:
            continue
        merchant = merchants.get(txn.merchant_id)
        if merchant is None:
            merchant = merchants[txn.merchant_id] = merchant_step.new_merchant_state()
        terminal = terminals.get(txn.terminal_id)
        if terminal is None:
            terminal = terminals[txn.terminal_id] = merchant_step.new_terminal_state()
        features.update(merchant_step(merchant, terminal, txn))
        device = None
        if txn.device_id is not None:
            device = devices.get(txn.device_id)
            if device is None:
                device = devices[txn.device_id] = device_step.new_state()
        features.update(device_step(device, txn))
        yield txn, {name: features[name] for name in FEATURE_NAMES}


def feature_table(rows: Iterable[tuple[Transaction, Features]]) -> dict[str, list[Any]]:
    """Columns for a file: identity and time first, then every feature."""
    columns: dict[str, list[Any]] = {
        name: [] for name in ("txn_id", "ts_ms", "card_id", "merchant_id", *FEATURE_NAMES)
    }
    for txn, features in rows:
        columns["txn_id"].append(txn.txn_id)
        columns["ts_ms"].append(txn.ts_ms)
        columns["card_id"].append(txn.card_id)
        columns["merchant_id"].append(txn.merchant_id)
        for name in FEATURE_NAMES:
            columns[name].append(features[name])
    return columns
