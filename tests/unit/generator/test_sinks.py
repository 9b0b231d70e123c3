"""Files: every format round-trips to the wire records, reproducibly, with labels beside."""

from __future__ import annotations

import orjson
import pytest

from fraudguard.errors import ConfigError
from fraudguard.generator import GeneratorConfig, PaymentStream, read_records, write_files
from fraudguard.wire.transactions import parse_transaction

CONFIG = GeneratorConfig(seed=9, cards=500, merchants=100, days=6, fraud_rate=0.01)


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_file_round_trip(tmp_path, suffix):
    stream = PaymentStream(CONFIG)
    report = write_files(stream, tmp_path / f"txns{suffix}")
    expected = [row for batch in stream.batches() for row in batch.wire_dicts()]
    assert read_records(tmp_path / f"txns{suffix}") == expected
    assert report.transactions == len(expected)
    assert report.fraud == sum(report.by_scenario.values()) > 0
    for row in expected[:200]:
        parse_transaction(orjson.dumps(row))

    labels = read_records(tmp_path / f"txns.labels{suffix}")
    assert len(labels) == report.labels
    assert [lab["reported_at"] for lab in labels] == sorted(lab["reported_at"] for lab in labels)
    fraud_ids = {lab["txn_id"] for lab in labels if lab["label"] == "fraud"}
    assert len(fraud_ids) == report.fraud
    entities = {row["txn_id"]: (row["merchant_id"], row["terminal_id"]) for row in expected}
    assert all((x["merchant_id"], x["terminal_id"]) == entities[x["txn_id"]] for x in labels)


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_files_are_byte_identical_for_the_same_seed(tmp_path, suffix):
    for name in ("a", "b"):
        write_files(PaymentStream(CONFIG), tmp_path / f"{name}{suffix}")
    for kind in ("", ".labels"):
        first = (tmp_path / f"a{kind}{suffix}").read_bytes()
        assert first == (tmp_path / f"b{kind}{suffix}").read_bytes()


def test_limit_and_named_labels_file(tmp_path):
    report = write_files(
        PaymentStream(CONFIG), tmp_path / "t.jsonl", tmp_path / "truth.csv", limit=1_234
    )
    assert report.transactions == len(read_records(tmp_path / "t.jsonl")) == 1_234
    sent = {row["txn_id"] for row in read_records(tmp_path / "t.jsonl")}
    assert {lab["txn_id"] for lab in read_records(tmp_path / "truth.csv")} <= sent


def test_without_labels(tmp_path):
    report = write_files(PaymentStream(CONFIG), tmp_path / "t.csv", with_labels=False)
    assert report.labels_out is None
    assert not (tmp_path / "t.labels.csv").exists()


def test_refusals(tmp_path):
    with pytest.raises(ConfigError, match="unknown file format"):
        write_files(PaymentStream(CONFIG), tmp_path / "t.txt")
    with pytest.raises(ConfigError, match="unknown file format"):
        write_files(PaymentStream(CONFIG), tmp_path / "t.csv", tmp_path / "l.xlsx")
    with pytest.raises(ConfigError, match="endless"):
        write_files(PaymentStream(CONFIG.model_copy(update={"days": None})), tmp_path / "t.csv")
