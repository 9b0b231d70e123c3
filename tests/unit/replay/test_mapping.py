"""Bad mappings are refused before any row is converted, with a ConfigError naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from fraudguard.errors import ConfigError
from fraudguard.replay.convert import convert_file
from fraudguard.replay.mapping_file import load_mapping, mapping_from_yaml

BAD_MAPPINGS = [
    ({"nmae": "x"}, "nmae: unknown key"),
    ({"fields.amout": "amt"}, "fields.amout: unknown key"),
    ({"fields.amount": {"colum": "amt"}}, "fields.amount.colum: unknown key"),
    ({"fields.currency": None}, "fields.currency: is required: give a column, a constant"),
    ({"fields.mcc": {"column": "kind", "constant": "5411"}},
     "fields.mcc.column: give exactly one of column, constant or template"),
    ({"fields.mcc": {"constant": 5411}}, "fields.mcc.constant: must be a quoted string, not 5411"),
    ({"fields.channel": {"column": "kind", "default": "online"}},
     "fields.channel.default: only applies with values"),
    ({"fields.txn_id": {"template": "t-{id"}}, "fields.txn_id.template: 't-{id' has an unmatched"),
    ({"fields.txn_id": {"template": "t-1"}}, "fields.txn_id.template: has no {COLUMN}"),
    ({"time": {"column": "ts", "form": "hours_since"}},
     "time.start: is required for the form hours_since"),
    ({"time.start": "2024-01-01T00:00:00Z"}, "time.start: does not apply to the form iso"),
    ({"time.form": "unix"}, "time.form: Input should be 'iso', 'epoch_s'"),
    ({"time.timezone": "Mars/Olympus"}, "time.timezone: 'Mars/Olympus' is not an IANA time zone"),
    ({"time": {"column": "ts", "form": "hours_since", "start": "2024-01-01 00:00"}},
     "time.start: '2024-01-01 00:00' has no UTC offset"),
    ({"labels.reported_after": None}, "labels.reported_after: give exactly one of reported_after"),
    ({"labels.reported_after": "a week"}, "labels.reported_after: 'a week' is not a duration"),
    ({"labels.fraud_values": []}, "labels.fraud_values: is empty"),
    ({"labels.txn_id": "id"}, "labels.txn_id: only applies with a labels file"),
    ({"ids": "fix"}, "ids: Input should be 'refuse' or 'replace'"),
    ({"name": None}, "name: is required"),
    # Columns are checked against the file before its first row.
    ({"fields.amount": "TX_AMOUNT"}, "fields.amount: the column 'TX_AMOUNT' is not in data.csv"),
    ({"fields.terminal_id": {"template": "{shop}-{till}"}},
     "fields.terminal_id: the column 'till' is not in data.csv (its columns: id, card, shop"),
    ({"time.column": "when"}, "time.column: the column 'when' is not in data.csv"),
    ({"labels.column": "isFraud"}, "labels.column: the column 'isFraud' is not in data.csv"),
    ({"labels.file": "labels.csv"}, "labels.file: no labels file at "),
]  # fmt: skip


@pytest.mark.parametrize(("changes", "message"), BAD_MAPPINGS)
def test_a_bad_mapping_is_refused_naming_its_key(
    tmp_path: Path, mapping_yaml, write_csv, changes, message
) -> None:
    source = write_csv([{}])
    with pytest.raises(ConfigError) as refused:
        convert_file(source, mapping_from_yaml(mapping_yaml(changes)), tmp_path / "out.jsonl")
    assert message in str(refused.value)
    assert not (tmp_path / "out.jsonl").exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: a\nname: b\n", "key 'name' appears twice"),
        ("- name: a\n", "a mapping file is a YAML mapping of keys"),
        ("name: [a\n", "not valid YAML"),
        ("", "a mapping file is a YAML mapping of keys"),
    ],
)
def test_a_mapping_that_is_not_a_yaml_mapping_is_refused(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match="^m.yaml: ") as refused:
        mapping_from_yaml(text, source="m.yaml")
    assert message in str(refused.value)


def test_every_problem_of_a_mapping_is_named_at_once(mapping_yaml) -> None:
    with pytest.raises(ConfigError) as refused:
        mapping_from_yaml(mapping_yaml({"nmae": "x", "time.form": "unix"}))
    assert "nmae: unknown key" in str(refused.value)
    assert "time.form: " in str(refused.value)


def test_the_mapping_is_frozen(mapping_yaml) -> None:
    mapping = mapping_from_yaml(mapping_yaml())
    with pytest.raises(ValueError, match="frozen"):
        mapping.name = "other"  # type: ignore[misc]


def test_the_shipped_mappings_load(mappings_dir: Path) -> None:
    names = {load_mapping(path).name for path in sorted(mappings_dir.glob("*.yaml"))}
    assert {"fraud-detection-handbook", "paysim"} <= names


def test_a_missing_mapping_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the mapping"):
        load_mapping(tmp_path / "nope.yaml")
