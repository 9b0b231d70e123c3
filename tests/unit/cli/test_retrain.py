"""`fraudguard retrain` from a decision log and the bank's labels, with the champion's history."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
from click.testing import CliRunner
from tests.unit.training.test_retrain import bank, log

from fraudguard.cli.retrain import retrain
from fraudguard.config import Settings
from fraudguard.decision.tiers_file import load_tiers
from fraudguard.models import ModelRegistry
from fraudguard.training.retrain import TIERS_FILE
from fraudguard.wire.transactions import format_event_time


def test_retrain_keeps_the_history_and_writes_tiers_for_the_challenger(
    tmp_path: Path, history_tables: tuple[pa.Table, pa.Table]
) -> None:
    features, labels = history_tables
    pq.write_table(features, tmp_path / "h.features.parquet")
    pq.write_table(labels, tmp_path / "h.labels.parquet")
    table, frauds = log(n=6_000, days=30)
    pq.write_table(table, tmp_path / "decisions.parquet")
    (tmp_path / "bank.labels.jsonl").write_bytes(b"".join(
        orjson.dumps({"txn_id": txn, "label": label, "reported_at": format_event_time(at)}) + b"\n"
        for txn, (label, at) in bank(table, frauds).items()
    ))  # fmt: skip
    settings = Settings(home=tmp_path / "home")
    args = [
        str(tmp_path / "decisions.parquet"), "--labels", str(tmp_path / "bank.labels.jsonl"),
        "--history", str(tmp_path / "h.features.parquet"), "--n-estimators", "20",
        "--nthread", "1", "--test-days", "8", "--label-window-days", "5",
    ]  # fmt: skip
    result = CliRunner().invoke(retrain, args, obj=settings)
    assert result.exit_code == 0, result.output
    assert f"history: {features.num_rows:,} labelled rows" in result.output
    registry = ModelRegistry.from_settings(settings)
    [entry] = registry.entries()
    assert registry.champion() is None  # a challenger, never promoted here
    report = json.loads((entry.path / "report.json").read_text())
    assert report["training_set"]["history"] == features.num_rows
    tiers = load_tiers(entry.path / TIERS_FILE)
    assert tiers.version == f"{entry.version}-tiers"
    assert (tiers.review, tiers.block) == (
        report["fitted_tiers"]["review"], report["fitted_tiers"]["block"]
    )
    assert f"fraudguard thresholds publish {entry.path / TIERS_FILE}" in result.output
