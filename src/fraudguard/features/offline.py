"""The offline path: the job's feature kernel over a file, for training and replay.

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

from fraudguard.config import Settings
from fraudguard.features.labels import FraudLabel
from fraudguard.features.registry import FEATURE_NAMES
from fraudguard.wire.transactions import Transaction

Features = dict[str, float]


def processing_order(txn: Transaction) -> tuple[int, str]:
    """The order every keyed step sees its entity's transactions in."""
    return txn.ts_ms, txn.txn_id


def build_features(
    transactions: Iterable[Transaction],
    dedupe_ttl_ms: int,
    settings: Settings | None = None,
    arrival_order: bool = False,
    labels: Iterable[FraudLabel] = (),
) -> Iterator[tuple[Transaction, Features]]:
    """Each transaction with its features, in processing order; retried ids appear once.

    The JVM feature kernel computes them, the same code the job runs in its keyed steps.
    Features come back in :data:`FEATURE_NAMES` order. Ties keep the input order (as the job
    keeps arrival order), so a retry that arrives second is the one dropped. With
    ``arrival_order`` the transactions are taken as given, the way the job meets a stream whose
    events arrive out of order. ``labels`` feed the label-fed features, each applied after the
    payments of its report time's millisecond (in processing order only).
    """
    from fraudguard.features.jvm import run_kernel

    txns = list(transactions)
    rows, values, _ = run_kernel(
        txns, dedupe_ttl_ms, settings or Settings(), arrival_order, list(labels)
    )
    for row, features in zip(rows.tolist(), values.tolist(), strict=True):
        yield txns[row], dict(zip(FEATURE_NAMES, features, strict=True))


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
