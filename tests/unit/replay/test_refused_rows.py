"""A row a mapping cannot convert is refused on record: its row number, reason, field, a clear
detail and the row itself in the rejects file, counted by reason; never dropped silently."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from fraudguard.errors import ConfigError
from fraudguard.generator import read_records
from fraudguard.replay.convert import convert_file
from fraudguard.replay.mapping_file import mapping_from_yaml
from fraudguard.replay.rejects import RowRefused, TooManyRejects, describe

UNCONVERTIBLE_ROWS = [
    ({"amt": "n/a"}, {}, "bad_number", "amount", "column amt: 'n/a' is not a number"),
    ({"amt": ""}, {}, "missing_value", "amount", "column amt is empty"),
    ({"amt": "-3"}, {}, "bad_amount", "amount", "amount -3.0 must be positive"),
    ({"amt": "20000000"}, {}, "bad_amount", "amount", "exceeds 10000000"),
    ({"ts": "yesterday"}, {}, "bad_timestamp", "event_time", "'yesterday' is not an ISO-8601 time"),
    ({"ts": "2024-03-01 10:00:00"}, {}, "bad_timestamp", "event_time", "has no UTC offset"),
    ({"ts": "2024-03-01T10:00:00Z"}, {"time.form": "epoch_s"}, "bad_timestamp", "event_time",
     "column ts (epoch_s): '2024-03-01T10:00:00Z' is not a number"),
    ({"ts": ""}, {}, "missing_value", "event_time", "column ts is empty"),
    ({"kind": "ATM"}, {}, "unmapped_value", "mcc", "column kind: 'ATM' is not in the values map"),
    ({"card": "c 1"}, {}, "bad_id", "card_id", "card_id 'c 1' (3 characters) must be 1-64"),
    ({"shop": "s" * 70}, {}, "bad_id", "merchant_id", "(70 characters) must be 1-64"),
    ({"card": ""}, {}, "missing_value", "card_id", "column card is empty"),
    ({"shop": ""}, {"fields.merchant_id": {"template": "m-{shop}"}}, "missing_value",
     "merchant_id", "column shop is empty"),
    ({}, {"fields.country": {"constant": "France"}}, "bad_country", "country",
     "country 'France' is not ISO 3166 alpha-2"),
    ({}, {"fields.currency": {"constant": "XXX"}}, "unknown_currency", "currency",
     "currency 'XXX' is not accepted"),
    ({"fraud": "yes"}, {}, "bad_label", "label", "column fraud: 'yes' is not one of '1', '0'"),
    ({"fraud": ""}, {}, "missing_value", "label", "column fraud is empty"),
    ({}, {"labels.reported_after": None, "labels.fraud_values": [0],
          "labels.reported_at": {"column": "fraud", "form": "epoch_s"}},
     "bad_label", "reported_at", "1970-01-01T00:00:00.000Z is before the payment at 2024-03-01"),
]  # fmt: skip


@pytest.mark.parametrize(("cells", "changes", "reason", "field", "detail"), UNCONVERTIBLE_ROWS)
def test_an_unconvertible_row_is_refused_with_its_row_field_and_reason(
    tmp_path: Path, mapping_yaml, write_csv, cells, changes, reason, field, detail
) -> None:
    source = write_csv([{"id": "1"}, {"id": "2", **cells}, {"id": "3"}])
    mapping = mapping_from_yaml(mapping_yaml(changes))
    report = convert_file(source, mapping, tmp_path / "out.jsonl", max_reject_share=1.0)

    # A bad cell refuses its row; a bad constant (France) refuses every row, each on record.
    rejects = [orjson.loads(line) for line in report.rejects_out.read_bytes().splitlines()]
    reject = next(r for r in rejects if r["row"] == 2)
    assert (reject["reason"], reject["field"]) == (reason, field)
    assert detail in reject["detail"]
    assert reject["file"] == "data.csv"
    assert reject["original"]["id"] == "2"
    assert {r["reason"] for r in rejects} == {reason}
    assert report.refused == {reason: len(rejects)} and report.rows == 3
    converted = [t["txn_id"] for t in read_records(report.out)]
    assert converted == [n for n in ("1", "3") if n not in {r["original"]["id"] for r in rejects}]
    message = describe(reject["row"], RowRefused(reason, field, reject["detail"]))
    assert message.startswith(f"row 2: {field}: ")


def test_a_run_over_the_share_fails_saying_how_many_why_and_where(
    tmp_path: Path, mapping_yaml, write_csv
) -> None:
    rows = [{"id": str(i)} for i in range(1, 99)] + [{"id": "99", "amt": "x"}, {"id": "100"}]
    source = write_csv(rows + [{"id": "101", "kind": "ATM"}])
    out = tmp_path / "out.jsonl"
    with pytest.raises(TooManyRejects) as failed:
        convert_file(source, mapping_from_yaml(mapping_yaml()), out)
    message = str(failed.value)
    assert "refused 2 of 101 rows of data.csv (1.98%)" in message
    assert "bad_number 1, unmapped_value 1" in message
    assert "more than the 1.00% allowed" in message
    assert "first of data.csv: row 99: amount: column amt: 'x' is not a number" in message
    assert str(tmp_path / "out.rejects.jsonl") in message
    assert not out.exists() and not (tmp_path / "out.labels.jsonl").exists()
    assert len((tmp_path / "out.rejects.jsonl").read_bytes().splitlines()) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv", "out.rejects.jsonl"]


def test_the_share_is_configurable(tmp_path: Path, mapping_yaml, write_csv) -> None:
    source = write_csv([{"id": "1"}, {"id": "2", "amt": "x"}])
    mapping = mapping_from_yaml(mapping_yaml())
    with pytest.raises(TooManyRejects):
        convert_file(source, mapping, tmp_path / "a.jsonl", max_reject_share=0.49)
    report = convert_file(source, mapping, tmp_path / "b.jsonl", max_reject_share=0.5)
    assert report.transactions == 1 and report.refused == {"bad_number": 1}


def test_a_csv_row_with_another_number_of_fields_is_refused(tmp_path: Path, mapping_yaml) -> None:
    source = tmp_path / "data.csv"
    source.write_text(
        "id,card,shop,amt,ts,kind,fraud\n"
        "1,c1,s1,12.5,2024-03-01T10:00:00Z,POS,0\n"
        "2,c1,s1,12.5,2024-03-01T10:00:00Z,POS\n"
    )
    report = convert_file(
        source, mapping_from_yaml(mapping_yaml()), tmp_path / "o.csv", max_reject_share=1.0
    )
    (reject,) = read_records(report.rejects_out)
    assert (reject["row"], reject["reason"], reject["field"]) == (2, "bad_row", None)
    assert reject["detail"] == "6 fields where the header has 7"
    assert reject["original"][0] == "2"


def test_jsonl_lines_that_are_not_rows_are_refused(tmp_path: Path, mapping_yaml) -> None:
    good = {"id": "1", "card": "c1", "shop": "s1", "amt": 12.5, "ts": "2024-03-01T10:00:00Z",
            "kind": "POS", "fraud": 0}  # fmt: skip
    source = tmp_path / "data.jsonl"
    lines = [orjson.dumps(good), b"{oops", b"[1, 2]", orjson.dumps({**good, "card": ["a"]}), b""]
    source.write_bytes(b"\n".join(lines) + b"\n")
    report = convert_file(
        source, mapping_from_yaml(mapping_yaml()), tmp_path / "o.jsonl", max_reject_share=1.0
    )
    rejects = read_records(report.rejects_out)
    assert [(r["row"], r["reason"], r["field"]) for r in rejects] == [
        (2, "bad_row", None), (3, "bad_row", None), (4, "wrong_type", "card_id"),
    ]  # fmt: skip
    assert rejects[0]["original"] == "{oops" and rejects[1]["original"] == [1, 2]
    assert "column card: holds list ['a'], not a single value" in rejects[2]["detail"]
    assert report.transactions == 1


@pytest.mark.parametrize(
    ("outputs", "message"),
    [
        ({"out": "data.csv"}, "used twice"),
        ({"out": "o.jsonl", "rejects_out": "o.jsonl"}, "used twice"),
        ({"out": "o.xlsx"}, "unknown file format"),
        ({"out": "o.jsonl", "labels_file": "l.csv"}, "labels are a column, not a file"),
    ],
)
def test_outputs_that_would_clash_are_refused(
    tmp_path: Path, mapping_yaml, write_csv, outputs, message
) -> None:
    source = write_csv([{}])
    (tmp_path / "l.csv").write_text("id,fraud\n")
    paths = {k: tmp_path / v for k, v in outputs.items()}
    with pytest.raises(ConfigError, match=message):
        convert_file(source, mapping_from_yaml(mapping_yaml()), **paths)
    assert source.read_text().startswith("id,card")
