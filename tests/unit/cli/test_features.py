"""`fraudguard features build` writes what the offline path computes, for every transaction."""

from __future__ import annotations

import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from fraudguard.cli import main
from fraudguard.features import FEATURE_NAMES, build_features
from fraudguard.generator import GeneratorConfig, PaymentStream, write_files


def run_cli(monkeypatch: pytest.MonkeyPatch, *args: str) -> None:
    monkeypatch.setattr(sys, "argv", ["fraudguard", *args])
    try:
        main()
    except SystemExit as exc:
        assert exc.code in (0, None)


def test_build_writes_every_feature_of_every_transaction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = GeneratorConfig(seed=5, cards=200, merchants=60, days=2)
    source = tmp_path / "txns.csv"
    write_files(PaymentStream(config), source, None, with_labels=False)
    run_cli(monkeypatch, "features", "build", str(source), "--out", str(tmp_path / "f.parquet"))

    table = pq.read_table(tmp_path / "f.parquet").to_pylist()
    expected = list(build_features(PaymentStream(config).transactions(), 86_400_000))
    assert len(table) == len(expected) > 0
    for row, (txn, features) in zip(table, expected, strict=True):
        assert row["txn_id"] == txn.txn_id
        assert [row[name] for name in FEATURE_NAMES] == list(features.values())
