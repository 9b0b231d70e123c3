"""The shipped mappings convert their fixtures; any of the three file formats gives the same
stream; time forms, separate labels files and id replacement do what the mapping says."""

from __future__ import annotations

from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
import yaml
from click.testing import CliRunner

from fraudguard.cli.replay import replay
from fraudguard.config import Settings
from fraudguard.generator import read_records
from fraudguard.replay.convert import convert_file
from fraudguard.replay.mapping_file import load_mapping, mapping_from_yaml
from fraudguard.replay.rejects import TooManyRejects


def test_the_handbook_fixture_converts_whole(tmp_path: Path, data_dir, mappings_dir) -> None:
    mapping = load_mapping(mappings_dir / "handbook.yaml")
    # into a folder that does not exist yet, as `--out hb/transactions.jsonl` asks
    report = convert_file(data_dir / "handbook.csv", mapping, tmp_path / "new" / "h.jsonl")

    assert (report.rows, report.transactions, report.refused) == (300, 300, {})
    first = read_records(report.out)[0]
    assert first == {
        "txn_id": "h0", "event_time": "2018-04-01T00:24:56.000Z", "card_id": "c16",
        "customer_id": "u16", "merchant_id": "m24", "terminal_id": "m24-t", "amount": 100.42,
        "currency": "EUR", "mcc": "5999", "country": "BE", "channel": "card_present",
        "device_id": None,
    }  # fmt: skip
    labels = read_records(report.labels_out)
    source = read_records_as_text(data_dir / "handbook.csv")
    fraud = {f"h{r['TRANSACTION_ID']}": r for r in source if r["TX_FRAUD"] == "1"}
    assert {label["txn_id"] for label in labels} == set(fraud) and report.fraud_labels == 9
    scenarios = {"1": "amount_over_220", "2": "compromised_terminal", "3": "compromised_card"}
    payments = {t["txn_id"]: t for t in read_records(report.out)}
    for label in labels:
        assert label["scenario"] == scenarios[fraud[label["txn_id"]]["TX_FRAUD_SCENARIO"]]
        payment = payments[label["txn_id"]]  # the label names the payment's entities
        assert (label["card_id"], label["merchant_id"], label["terminal_id"]) == (
            payment["card_id"], payment["merchant_id"], payment["terminal_id"],
        )  # fmt: skip
        assert label["source"] == "handbook" and label["label"] == "fraud"
    reported = [label["reported_at"] for label in labels]
    assert reported == sorted(reported)
    assert report.rejects_out.read_bytes() == b""


def test_the_paysim_fixture_converts_with_its_one_reject(
    tmp_path: Path, data_dir, mappings_dir
) -> None:
    mapping = load_mapping(mappings_dir / "paysim.yaml")
    report = convert_file(data_dir / "paysim.csv", mapping, tmp_path / "p.parquet")

    assert (report.rows, report.transactions, report.refused) == (300, 299, {"bad_amount": 1})
    (reject,) = read_records(report.rejects_out)
    assert (reject["row"], reject["field"], reject["original"]["amount"]) == (
        151, "amount", "12345678.9",
    )  # fmt: skip
    txns = pq.read_table(report.out).to_pylist()
    by_id = {t["txn_id"]: t for t in txns}
    assert "ps151" not in by_id and by_id["ps1"]["event_time"] == "2016-09-01T01:00:00.000Z"
    kinds = {row["type"] for row in read_records_as_text(data_dir / "paysim.csv")}
    assert kinds == {"PAYMENT", "TRANSFER", "CASH_OUT", "DEBIT", "CASH_IN"}
    assert {t["channel"] for t in txns} == {"online", "card_present"}
    assert report.fraud_labels == 12
    assert {lab["txn_id"] for lab in read_records(report.labels_out)} <= set(by_id)


@pytest.mark.parametrize("suffix", [".parquet", ".jsonl"])
def test_every_format_of_a_file_converts_to_the_same_stream(
    tmp_path: Path, data_dir, mappings_dir, suffix: str
) -> None:
    # Arrow types the columns as a Parquet export would: integers, floats, timestamps.
    table = pacsv.read_csv(data_dir / "handbook.csv")
    assert pa.types.is_timestamp(table["TX_DATETIME"].type)
    other = tmp_path / f"handbook{suffix}"
    if suffix == ".parquet":
        pq.write_table(table, other, row_group_size=64)
    else:
        other.write_bytes(b"".join(orjson.dumps(row) + b"\n" for row in table.to_pylist()))
    mapping = load_mapping(mappings_dir / "handbook.yaml")

    expected = convert_file(data_dir / "handbook.csv", mapping, tmp_path / "a.jsonl")
    got = convert_file(other, mapping, tmp_path / "b.jsonl")
    assert got.out.read_bytes() == expected.out.read_bytes()
    assert got.labels_out.read_bytes() == expected.labels_out.read_bytes()  # type: ignore[union-attr]


def test_seconds_since_a_start_gives_the_same_times_as_the_timestamps(
    tmp_path: Path, data_dir, mappings_dir
) -> None:
    doc = yaml.safe_load((mappings_dir / "handbook.yaml").read_text())
    doc["time"] = {"column": "TX_TIME_SECONDS", "form": "seconds_since",
                   "start": "2018-04-01T00:00:00+00:00"}  # fmt: skip
    by_seconds = convert_file(
        data_dir / "handbook.csv", mapping_from_yaml(yaml.safe_dump(doc)), tmp_path / "s.jsonl"
    )
    by_datetime = convert_file(
        data_dir / "handbook.csv",
        load_mapping(mappings_dir / "handbook.yaml"),
        tmp_path / "d.jsonl",
    )
    assert by_seconds.out.read_bytes() == by_datetime.out.read_bytes()


@pytest.mark.parametrize(
    ("form", "cell", "start", "expected"),
    [
        ("epoch_s", "1709287200", None, "2024-03-01T10:00:00.000Z"),
        ("epoch_ms", "1709287200123", None, "2024-03-01T10:00:00.123Z"),
        ("hours_since", "3", "2024-03-01T00:00:00Z", "2024-03-01T03:00:00.000Z"),
        ("days_since", "1.5", "2024-03-01T00:00:00+01:00", "2024-03-02T11:00:00.000Z"),
        ("minutes_since", "90", "2024-03-01", "2024-03-01T00:30:00.000Z"),  # Paris, winter
        ("iso", "2024-03-01T11:00:00+01:00", None, "2024-03-01T10:00:00.000Z"),
        ("iso", "2024-03-01 11:00:00", None, "2024-03-01T10:00:00.000Z"),  # Paris, winter
    ],
)
def test_time_forms(tmp_path: Path, mapping_yaml, write_csv, form, cell, start, expected) -> None:
    time = {"column": "ts", "form": form, "timezone": "Europe/Paris"}
    if start is not None:
        time["start"] = start
    mapping = mapping_from_yaml(mapping_yaml({"time": time}))
    report = convert_file(write_csv([{"ts": cell}]), mapping, tmp_path / "o.jsonl")
    assert read_records(report.out)[0]["event_time"] == expected


def test_labels_from_a_separate_file_join_their_transactions(
    tmp_path: Path, mapping_yaml, write_csv
) -> None:
    source = write_csv([{"id": str(i), "fraud": ""} for i in range(1, 201)])
    (tmp_path / "chargebacks.csv").write_text(
        "payment,outcome,when,why\n"
        "5,F,2024-03-05T00:00:00Z,stolen\n"
        "6,G,2024-03-05T00:00:00Z,\n"
        "999,F,2024-03-05T00:00:00Z,stolen\n"  # no such payment
        "5,F,2024-03-06T00:00:00Z,stolen\n"  # labelled twice
    )
    labels = {"file": "chargebacks.csv", "txn_id": "payment", "column": "outcome",
              "fraud_values": ["F"], "legit_values": ["G"], "reported_after": None,
              "reported_at": {"column": "when", "form": "iso"},
              "scenario": {"column": "why", "values": {"stolen": "card_theft"},
                           "default": "other"},
              "write_legit": True}  # fmt: skip
    mapping = mapping_from_yaml(mapping_yaml({"labels": labels}))
    report = convert_file(source, mapping, tmp_path / "o.jsonl", max_reject_share=0.5)

    assert report.transactions == 200 and report.rows == 200
    assert (report.fraud_labels, report.legit_labels) == (1, 1)
    written = {lab["txn_id"]: lab for lab in read_records(report.labels_out)}
    assert written["5"]["reported_at"] == "2024-03-05T00:00:00.000Z"
    assert written["5"]["scenario"] == "card_theft" and written["6"]["label"] == "legit"
    payment = next(t for t in read_records(report.out) if t["txn_id"] == "5")
    assert (written["5"]["merchant_id"], written["5"]["terminal_id"]) == (
        payment["merchant_id"], payment["terminal_id"],
    )  # fmt: skip
    rejects = read_records(report.rejects_out)
    assert [(r["file"], r["row"], r["reason"]) for r in rejects] == [
        ("chargebacks.csv", 4, "duplicate_label"), ("chargebacks.csv", 3, "unknown_transaction"),
    ]  # fmt: skip


def test_ids_replace_swaps_other_characters(tmp_path: Path, mapping_yaml, write_csv) -> None:
    source = write_csv([{"card": "Jane Doe/1", "shop": "Café"}])
    report = convert_file(
        source, mapping_from_yaml(mapping_yaml({"ids": "replace"})), tmp_path / "o.jsonl"
    )
    (txn,) = read_records(report.out)
    assert (txn["card_id"], txn["customer_id"], txn["merchant_id"]) == (
        "Jane_Doe_1", "u-Jane_Doe_1", "Caf_",
    )  # fmt: skip


def test_the_cli_converts_and_fails_over_the_share(tmp_path: Path, data_dir, mappings_dir) -> None:
    def run(*args: str):
        return CliRunner().invoke(replay, ["convert", *args], obj=Settings())

    mapping = str(mappings_dir / "paysim.yaml")
    out = tmp_path / "p.csv"
    done = run(str(data_dir / "paysim.csv"), "--mapping", mapping, "--out", str(out))
    assert done.exit_code == 0, done.output
    assert len(read_records(out)) == 299 and (tmp_path / "p.labels.csv").exists()

    failed = run(str(data_dir / "paysim.csv"), "--mapping", mapping, "--out",
                 str(tmp_path / "q.csv"), "--max-reject-share", "0.001")  # fmt: skip
    assert isinstance(failed.exception, TooManyRejects)
    assert not (tmp_path / "q.csv").exists() and (tmp_path / "q.rejects.jsonl").exists()


def read_records_as_text(path: Path) -> list[dict[str, str]]:
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    return [dict(zip(header, line.split(","), strict=True)) for line in lines[1:]]
