"""The job's state serializers (``KernelStateSerializer``) against the kernel: the offline path
with every state put through a checkpoint's write and read, or a copy-on-write copy, after each
step, gives the features of the path without them, bit for bit (``KernelStateCheck``)."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import pytest

from fraudguard.config import Settings
from fraudguard.features.jvm import run_kernel_main, write_transactions
from fraudguard.features.spec import write_feature_spec
from fraudguard.generator import GeneratorConfig, PaymentStream
from fraudguard.wire.transactions import Transaction

DAY = 86_400_000


def arrival(seed: int, n: int) -> list[Transaction]:
    """Generated payments in arrival order: some of them late (up to two days) and some retried,
    so states also take insertions, out-of-window events and retried ids."""
    rng = random.Random(seed)
    config = GeneratorConfig(seed=seed, cards=400, merchants=60, days=15)
    txns = list(PaymentStream(config).transactions())[:n]
    for i in range(0, len(txns) - 1, 17):
        late = txns.pop(i)
        txns.insert(min(len(txns), i + rng.randrange(1, 400)), late)
    for i in range(0, len(txns), 29):
        txns.insert(min(len(txns), i + rng.randrange(1, 50)), replace(txns[i]))
    return txns


@pytest.mark.parametrize("seed", range(2))
def test_states_through_checkpoints_and_copies_give_the_same_features(
    tmp_path: Path, seed: int
) -> None:
    spec = write_feature_spec(tmp_path / "spec.json")
    txns = arrival(seed, 20_000)
    source = write_transactions(tmp_path / "transactions.jsonl", txns)
    got = run_kernel_main(
        Settings(), "io.fraudguard.tools.KernelStateCheck", [str(spec), str(source), str(DAY)]
    )
    assert got["answered"] > 0.9 * len(txns) > 5_000
    # card, merchant, terminal and most devices: three or four states per answered payment
    assert got["round_trips"] + got["copies"] >= 3 * got["answered"]
    assert got["mismatches"] == 0, got
    assert got["unstable"] == 0, got
    assert got["changed_after_copy"] == 0, got
