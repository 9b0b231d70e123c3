"""Loading labelled tables: labels joined by id, time order, fingerprints, formats."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from fraudguard.errors import TrainingError
from fraudguard.features import FEATURE_NAMES, FEATURE_SET_VERSION
from fraudguard.training.data import (
    LabelledTable,
    default_labels_path,
    fraud_ids,
    from_feature_table,
    read_labelled,
)


def small_table() -> pa.Table:
    return pa.table(
        {
            "txn_id": ["t3", "t1", "t2", "t4"],
            "ts_ms": [30, 10, 10, 40],
            "card_id": ["c2", "c1", "c1", "c3"],
            "merchant_id": ["m1"] * 4,
            "f1": [3.0, 1.0, 2.0, 4.0],
            "f2": [0.5, 0.1, 0.2, 0.4],
        }
    )


def labels(rows: list[tuple[str, str, str]]) -> pa.Table:
    return pa.table(
        {
            "txn_id": [r[0] for r in rows],
            "label": [r[1] for r in rows],
            "reported_at": [r[2] for r in rows],
        }
    )


def test_unlabelled_and_legit_labelled_rows_are_legitimate() -> None:
    lab = labels([("t2", "fraud", "2026-01-02T00:00:00Z"), ("t4", "legit", "2026-01-02T00:00:00Z")])
    data = from_feature_table(small_table(), fraud_ids(lab), feature_names=("f1", "f2"))
    assert data.txn_id.tolist() == ["t1", "t2", "t3", "t4"]  # by time, then id
    assert data.y.tolist() == [0, 1, 0, 0]
    assert data.X.dtype.name == "float32" and data.X[:, 1].tolist() == pytest.approx(
        [0.1, 0.2, 0.5, 0.4]
    )
    assert data.card_id.tolist() == ["c1", "c1", "c2", "c3"]
    assert data.feature_set_version == FEATURE_SET_VERSION  # no metadata: the current one


def test_labels_known_at_keeps_only_reports_made_by_then() -> None:
    lab = labels([("t1", "fraud", "2026-01-02T00:00:00Z"), ("t2", "fraud", "2026-01-09T00:00:00Z")])
    assert fraud_ids(lab, known_at=datetime(2026, 1, 5, tzinfo=UTC)) == {"t1"}
    assert fraud_ids(lab) == {"t1", "t2"}


def test_missing_feature_columns_are_named() -> None:
    with pytest.raises(TrainingError, match="lacks columns: f3"):
        from_feature_table(small_table(), set(), feature_names=("f1", "f3"))


def test_fingerprint_follows_content_not_row_order_or_format(tmp_path: Path) -> None:
    names = ("f1", "f2")
    a = from_feature_table(small_table(), {"t2"}, feature_names=names)
    shuffled = small_table().take([3, 0, 2, 1])
    assert (
        from_feature_table(shuffled, {"t2"}, feature_names=names).fingerprint() == a.fingerprint()
    )
    assert (
        from_feature_table(small_table(), {"t3"}, feature_names=names).fingerprint()
        != a.fingerprint()
    )
    pacsv.write_csv(small_table(), tmp_path / "x.csv")
    from fraudguard.training.data import read_table

    from_csv = from_feature_table(read_table(tmp_path / "x.csv"), {"t2"}, feature_names=names)
    assert from_csv.fingerprint() == a.fingerprint()


def test_feature_set_version_comes_from_the_table_metadata(
    history_tables: tuple[pa.Table, pa.Table], history: LabelledTable
) -> None:
    features, _ = history_tables
    old = features.replace_schema_metadata({"feature_set_version": "fs-old"})
    assert from_feature_table(old.slice(0, 10), set()).feature_set_version == "fs-old"
    assert history.feature_names == FEATURE_NAMES
    assert 0.005 < history.fraud_rate < 0.02


def test_read_labelled_finds_the_generator_labels_beside_the_table(
    tmp_path: Path, history_tables: tuple[pa.Table, pa.Table], history: LabelledTable
) -> None:
    features, lab = history_tables
    pq.write_table(features, tmp_path / "h.features.parquet")
    with pytest.raises(TrainingError, match="no labels file"):
        read_labelled(tmp_path / "h.features.parquet")
    pq.write_table(lab, tmp_path / "h.labels.parquet")
    assert default_labels_path(tmp_path / "h.features.parquet") == tmp_path / "h.labels.parquet"
    loaded = read_labelled(tmp_path / "h.features.parquet")
    assert loaded.fingerprint() == history.fingerprint()
