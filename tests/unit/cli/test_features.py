"""`fraudguard features build` writes what the offline path computes, for every transaction,
and refuses invalid rows on record, failing over the allowed share."""

from __future__ import annotations

import sys
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from fraudguard.cli import main
from fraudguard.cli.features import features as features_group
from fraudguard.config import Settings
from fraudguard.features import (
    FEATURE_NAMES,
    FEATURES,
    LabelFeature,
    build_features,
    feature_name,
)
from fraudguard.generator import GeneratorConfig, PaymentStream, read_records, write_files
from fraudguard.replay.rejects import TooManyRejects


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


def _bad_rows(template: dict) -> list[dict]:
    return [
        {**template, "txn_id": "bad-amount", "amount": -3.0},
        {**template, "txn_id": "bad-mcc", "mcc": "54"},
        {k: v for k, v in template.items() if k != "currency"} | {"txn_id": "no-currency"},
    ]


def test_refused_rows_are_counted_and_written_beside_the_table(tmp_path: Path) -> None:
    config = GeneratorConfig(seed=6, cards=200, merchants=60, days=2)
    source = tmp_path / "txns.jsonl"
    write_files(PaymentStream(config), source, None, with_labels=False)
    good = read_records(source)
    rows = good[:100] + _bad_rows(good[0]) + good[100:]
    source.write_bytes(b"".join(orjson.dumps(row) + b"\n" for row in rows))

    out = tmp_path / "f.parquet"
    result = CliRunner().invoke(
        features_group, ["build", str(source), "--out", str(out)], obj=Settings()
    )
    assert result.exit_code == 0, result.output
    assert pq.read_table(out).num_rows == len(good)
    rejects = read_records(tmp_path / "f.rejects.jsonl")
    assert [(r["row"], r["reason"], r["field"]) for r in rejects] == [
        (101, "bad_amount", "amount"), (102, "bad_mcc", "mcc"), (103, "missing_field", "currency"),
    ]  # fmt: skip
    assert rejects[0]["original"]["txn_id"] == "bad-amount"


def test_a_file_of_only_bad_rows_fails_without_a_table(tmp_path: Path) -> None:
    config = GeneratorConfig(seed=6, cards=200, merchants=60, days=1)
    source = tmp_path / "txns.jsonl"
    write_files(PaymentStream(config), source, None, with_labels=False, limit=1)
    rows = _bad_rows(read_records(source)[0])
    source.write_bytes(b"".join(orjson.dumps(row) + b"\n" for row in rows))

    out = tmp_path / "f.parquet"
    result = CliRunner().invoke(
        features_group, ["build", str(source), "--out", str(out)], obj=Settings()
    )
    assert isinstance(result.exception, TooManyRejects)
    message = str(result.exception)
    assert "refused 3 of 3 rows of txns.jsonl (100.00%)" in message
    assert "bad_amount 1, bad_mcc 1, missing_field 1" in message
    assert str(tmp_path / "f.rejects.jsonl") in message
    assert not out.exists()
    assert len(read_records(tmp_path / "f.rejects.jsonl")) == 3


def test_the_command_line_exits_non_zero_with_the_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "txns.jsonl"
    source.write_bytes(b'{"txn_id": "t1"}\n')
    monkeypatch.setattr(sys, "argv", ["fraudguard", "features", "build", str(source)])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 1
    assert "refused 1 of 1 rows of txns.jsonl" in capsys.readouterr().err


def test_build_with_labels_feeds_the_label_features_as_build_features_does(
    tmp_path: Path, labelled_stream
) -> None:
    source, labels = labelled_stream.write(tmp_path)
    out = tmp_path / "f.parquet"
    result = CliRunner().invoke(
        features_group,
        ["build", str(source), "--out", str(out), "--labels", str(labels)],
        obj=Settings(),
    )
    assert result.exit_code == 0, result.output
    txns = labelled_stream.transactions
    after = sum(x.reported_ms >= txns[-1].ts_ms for x in labelled_stream.labels)
    fed = len(labelled_stream.labels) - after
    assert result.output.strip().endswith(
        f"; {fed} fraud labels fed the features, {after + 2} labels did not "
        f"(after_last {after}, legit 1, no_entities 1)"
    )
    table = pq.read_table(out).to_pylist()
    expected = list(build_features(txns, 86_400_000, labels=labelled_stream.labels))
    assert len(table) == len(expected) > 0
    for row, (txn, features) in zip(table, expected, strict=True):
        assert row["txn_id"] == txn.txn_id
        assert [row[name] for name in FEATURE_NAMES] == list(features.values())
    label_names = [feature_name(f) for f in FEATURES if isinstance(f, LabelFeature)]
    for name in label_names:
        assert any(row[name] > 0 for row in table), name
