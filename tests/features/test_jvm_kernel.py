"""The JVM feature kernel against the Python engine: the same declarations, the same values.

Both evaluate the registry on 50,000 generated transactions (with retried ids, transactions
without a device, several currencies and two busy days for the merchants); every feature of
every transaction must be the same double, bit for bit.
"""

from __future__ import annotations

import random
from dataclasses import replace

import numpy as np
import pytest

from fraudguard.config import Settings
from fraudguard.features import FEATURE_NAMES, build_features
from fraudguard.features.jvm import build_features_jvm
from fraudguard.generator import GeneratorConfig, PaymentStream
from fraudguard.schema import Transaction

pytestmark = pytest.mark.integration


def transactions(count: int) -> list[Transaction]:
    config = GeneratorConfig(seed=23, cards=3000, merchants=200, days=10, fraud_rate=0.01)
    txns = []
    for txn in PaymentStream(config).transactions():
        txns.append(txn)
        if len(txns) == count:
            break
    rng = random.Random(23)
    # Payment-system retries: the same id again, a little later or at the same instant.
    retries = [
        replace(t, ts_ms=t.ts_ms + rng.choice([0, 1, 30_000])) for t in rng.sample(txns, 500)
    ]
    return txns + retries


def test_the_jvm_kernel_computes_every_feature_of_50k_transactions_bit_for_bit(
    stack_settings: Settings,
) -> None:
    txns = transactions(50_000)
    assert any(t.device_id is None for t in txns) and len({t.currency for t in txns}) > 3
    ttl_ms = stack_settings.flink.dedupe_ttl_ms
    python = list(build_features(txns, dedupe_ttl_ms=ttl_ms))
    ids, values, timing = build_features_jvm(txns, ttl_ms, stack_settings)

    assert ids == [txn.txn_id for txn, _ in python]
    assert len(ids) == 50_000 == timing["rows"]  # every retry answered once, by its first copy
    expected = np.array([list(features.values()) for _, features in python], dtype=np.float64)
    differ = np.argwhere(expected.view(np.int64) != values.view(np.int64))
    assert len(differ) == 0, [
        (ids[row], FEATURE_NAMES[column], expected[row, column], values[row, column])
        for row, column in differ[:5]
    ]
