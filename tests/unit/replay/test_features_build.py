"""The converted fixtures are streams the job's feature kernel takes whole (needs Java; the jars
build on first use)."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from fraudguard.cli.features import features
from fraudguard.config import Settings
from fraudguard.features import FEATURE_NAMES
from fraudguard.generator import read_records
from fraudguard.replay.convert import convert_file
from fraudguard.replay.mapping_file import load_mapping


@pytest.mark.parametrize("name", ["handbook", "paysim"])
def test_a_converted_fixture_goes_through_features_build(
    tmp_path: Path, data_dir, mappings_dir, name: str
) -> None:
    report = convert_file(
        data_dir / f"{name}.csv", load_mapping(mappings_dir / f"{name}.yaml"), tmp_path / "t.jsonl"
    )
    out = tmp_path / "t.features.parquet"
    result = CliRunner().invoke(
        features, ["build", str(report.out), "--out", str(out)], obj=Settings()
    )
    assert result.exit_code == 0, result.output

    table = pq.read_table(out)
    assert table.num_rows == report.transactions
    assert set(FEATURE_NAMES) <= set(table.column_names)
    converted = {t["txn_id"] for t in read_records(report.out)}
    assert set(table["txn_id"].to_pylist()) == converted
    assert (tmp_path / "t.features.rejects.jsonl").read_bytes() == b""
