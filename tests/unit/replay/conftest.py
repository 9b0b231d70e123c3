"""A small mapping and a writer of small CSV files, as fixtures for the replay tests."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

COLUMNS = ("id", "card", "shop", "amt", "ts", "kind", "fraud")
GOOD_ROW = {"id": "1", "card": "c1", "shop": "s1", "amt": "12.5", "ts": "2024-03-01T10:00:00Z",
            "kind": "POS", "fraud": "0"}  # fmt: skip
BASE_MAPPING: dict[str, Any] = {
    "name": "small",
    "fields": {
        "txn_id": "id",
        "card_id": "card",
        "customer_id": {"template": "u-{card}"},
        "merchant_id": "shop",
        "terminal_id": {"template": "{shop}-t"},
        "amount": "amt",
        "currency": {"constant": "EUR"},
        "mcc": {"column": "kind", "values": {"POS": "5411", "WEB": "5999"}},
        "country": {"constant": "FR"},
        "channel": {"column": "kind", "values": {"WEB": "online"}, "default": "card_present"},
    },
    "time": {"column": "ts", "form": "iso"},
    "labels": {"column": "fraud", "fraud_values": [1], "reported_after": "7d", "legit_values": [0]},
}

MappingYaml = Callable[..., str]
WriteCsv = Callable[..., Path]


def _mapping_yaml(changes: dict[str, Any] | None = None) -> str:
    """The base mapping as YAML, with ``changes`` at dotted keys (``None`` removes a key)."""
    doc = copy.deepcopy(BASE_MAPPING)
    for dotted, value in (changes or {}).items():
        *parents, last = dotted.split(".")
        node = doc
        for key in parents:
            node = node[key]
        if value is None:
            node.pop(last, None)
        else:
            node[last] = value
    return yaml.safe_dump(doc, sort_keys=False)


@pytest.fixture
def mapping_yaml() -> MappingYaml:
    return _mapping_yaml


@pytest.fixture
def write_csv(tmp_path: Path) -> WriteCsv:
    """Writes rows (dicts over COLUMNS, GOOD_ROW's cells by default) to ``tmp_path/name``."""

    def write(rows: list[dict[str, str]], name: str = "data.csv") -> Path:
        lines = [",".join(COLUMNS)]
        lines += [",".join({**GOOD_ROW, **row}[c] for c in COLUMNS) for row in rows]
        path = tmp_path / name
        path.write_text("\n".join(lines) + "\n")
        return path

    return write


@pytest.fixture
def data_dir() -> Path:
    return Path(__file__).parents[2] / "data" / "replay"


@pytest.fixture
def mappings_dir() -> Path:
    return Path(__file__).parents[3] / "replay" / "mappings"
