"""What training reads: each input kind, the label cut-off, and a clear error for each wrong
input (no stack, no JVM: the foreign-file path is in tests/unit/cli/test_train.py)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fraudguard.config import Settings
from fraudguard.errors import ConfigError, TrainingError
from fraudguard.features import FEATURE_NAMES
from fraudguard.training.sources import (
    InputKind,
    backtest_features,
    input_kind,
    load_input,
)

ROOT = Path(__file__).resolve().parents[3]
CUTOFF = datetime.fromisoformat("2026-01-10T00:00:00Z")
IDS = ["t1", "t2", "t3", "t4"]


def feature_columns() -> dict[str, list[float]]:
    return {name: [float(i) for i in range(len(IDS))] for name in FEATURE_NAMES}


def feature_table() -> pa.Table:
    identity = {"txn_id": IDS, "ts_ms": [10, 20, 30, 40], "card_id": ["c1", "c1", "c2", "c2"]}
    return pa.table(identity | feature_columns())


def write_labels(path: Path) -> Path:
    """t1 reported before the cut-off, t2 exactly at it, t3 after it; t4 is cleared (legit)."""
    reports = [("t1", "fraud", "2026-01-05T00:00:00Z"), ("t2", "fraud", "2026-01-10T00:00:00Z"),
               ("t3", "fraud", "2026-01-10T00:00:00.001Z"),
               ("t4", "legit", "2026-01-02T00:00:00Z")]  # fmt: skip
    columns = ("txn_id", "label", "reported_at")
    pq.write_table(pa.table({c: [r[i] for r in reports] for i, c in enumerate(columns)}), path)
    return path


def labels_by_id(source: Path, **options: object) -> dict[str, int]:
    loaded = load_input(source, Settings(), **options)  # type: ignore[arg-type]
    return dict(zip(loaded.data.txn_id.tolist(), loaded.data.y.tolist(), strict=True))


def test_a_label_reported_after_the_cut_off_is_not_used_and_one_by_it_is(tmp_path: Path) -> None:
    pq.write_table(feature_table(), tmp_path / "h.features.parquet")
    write_labels(tmp_path / "h.labels.parquet")
    source = tmp_path / "h.features.parquet"

    assert labels_by_id(source, known_at=CUTOFF) == {"t1": 1, "t2": 1, "t3": 0, "t4": 0}
    assert labels_by_id(source) == {"t1": 1, "t2": 1, "t3": 1, "t4": 0}  # default: every label
    loaded = load_input(source, Settings(), known_at=CUTOFF)
    assert loaded.sources["input"] == "feature table"
    assert loaded.sources["labels_known_at"] == "2026-01-10T00:00:00+00:00"


def write_backtest(folder: Path, labels_file: str | None) -> Path:
    """A backtest's output as `fraudguard backtest` writes it: the features as a struct, its
    own label columns (which training must not read), and the summary naming its labels."""
    folder.mkdir(parents=True)
    features = pa.StructArray.from_arrays(
        [pa.array(v) for v in feature_columns().values()], names=list(FEATURE_NAMES)
    )
    decisions = pa.table({
        "txn_id": IDS, "card_id": ["c1", "c1", "c2", "c2"], "ts_ms": [10, 20, 30, 40],
        "features": features, "feature_version": ["fs-backtest"] * 4,
        "decision": ["approve"] * 4, "label": ["fraud", None, None, None],
        "label_reported_ms": [1, 2, 3, None],
    })  # fmt: skip
    pq.write_table(decisions, folder / "decisions.parquet")
    (folder / "summary.json").write_bytes(orjson.dumps({"labels_file": labels_file}))
    return folder


def test_a_backtest_folder_trains_on_its_features_and_the_labels_it_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_labels(tmp_path / "l.parquet")
    folder = write_backtest(tmp_path / "runs" / "bt", "l.parquet")  # relative to where it ran
    monkeypatch.chdir(tmp_path / "runs")  # not where the backtest ran: found above its output

    assert labels_by_id(folder, known_at=CUTOFF) == {"t1": 1, "t2": 1, "t3": 0, "t4": 0}
    loaded = load_input(folder / "decisions.parquet", Settings())
    assert loaded.data.feature_set_version == "fs-backtest"
    assert loaded.data.X[:, 0].tolist() == [0.0, 1.0, 2.0, 3.0]
    assert loaded.sources["input"] == "backtest decisions"
    assert loaded.sources["labels"] == str(tmp_path / "l.parquet")


def test_a_backtest_without_labels_asks_for_them(tmp_path: Path) -> None:
    folder = write_backtest(tmp_path / "bt", None)
    with pytest.raises(TrainingError, match="names no labels file.*--labels"):
        load_input(folder, Settings())
    assert labels_by_id(folder, labels=write_labels(tmp_path / "l.parquet"))["t3"] == 1


def test_backtest_features_need_one_feature_set() -> None:
    decisions = pa.table({"txn_id": ["a", "b"], "ts_ms": [1, 2], "card_id": ["c", "c"],
                          "features": pa.array([{"f": 1.0}, {"f": 2.0}]),
                          "feature_version": ["fs-1", "fs-2"]})  # fmt: skip
    with pytest.raises(TrainingError, match="mix feature-set versions"):
        backtest_features(decisions)


def test_each_input_kind_is_told_apart(tmp_path: Path) -> None:
    folder = write_backtest(tmp_path / "bt", None)
    pq.write_table(feature_table(), tmp_path / "f.parquet")
    mapping = ROOT / "replay/mappings/handbook.yaml"

    assert input_kind(folder) is InputKind.BACKTEST
    assert input_kind(folder / "decisions.parquet") is InputKind.BACKTEST
    assert input_kind(tmp_path / "f.parquet") is InputKind.FEATURES
    assert input_kind(ROOT / "tests/data/replay/handbook.csv", mapping) is InputKind.FOREIGN
    with pytest.raises(ConfigError, match="is a folder: --mapping converts one payments file"):
        input_kind(folder, mapping)
    with pytest.raises(TrainingError, match="without decisions.parquet: not a backtest"):
        input_kind(tmp_path)


def test_a_decision_log_export_folder_is_a_feature_table(tmp_path: Path) -> None:
    pq.write_table(feature_table(), tmp_path / "decisions.parquet")
    write_labels(tmp_path / "decisions.labels.parquet")  # as `fraudguard log export` names it
    assert input_kind(tmp_path) is InputKind.FEATURES
    assert labels_by_id(tmp_path) == {"t1": 1, "t2": 1, "t3": 1, "t4": 0}


def test_a_foreign_file_without_its_mapping_is_refused_with_what_to_do() -> None:
    with pytest.raises(TrainingError, match="not a feature table.*needs --mapping"):
        load_input(ROOT / "tests/data/replay/handbook.csv", Settings())


def test_a_transactions_file_is_refused_with_what_to_do(tmp_path: Path) -> None:
    wire = {"txn_id": ["t1"], "event_time": ["2026-01-01T00:00:00Z"], "card_id": ["c1"],
            "customer_id": ["u1"], "merchant_id": ["m1"], "terminal_id": ["m1-t"],
            "amount": [1.0], "currency": ["EUR"], "mcc": ["5411"], "country": ["FR"],
            "channel": ["online"], "device_id": [None]}  # fmt: skip
    pq.write_table(pa.table(wire), tmp_path / "t.parquet")
    with pytest.raises(TrainingError, match="is a transactions file.*features build"):
        load_input(tmp_path / "t.parquet", Settings())


def test_no_fraud_reported_by_the_cut_off_is_a_clear_error(tmp_path: Path) -> None:
    pq.write_table(feature_table(), tmp_path / "h.features.parquet")
    write_labels(tmp_path / "h.labels.parquet")
    with pytest.raises(TrainingError) as error:
        load_input(tmp_path / "h.features.parquet", Settings(),
                   known_at=datetime.fromisoformat("2026-01-01T00:00:00Z"))  # fmt: skip
    assert "no fraud label was reported by the cut-off 2026-01-01T00:00:00+00:00" in str(
        error.value
    )
    assert "3 fraud labels come later, the first at 2026-01-05T00:00:00+00:00" in str(error.value)


def test_a_mapping_without_labels_and_no_labels_file_is_refused(tmp_path: Path) -> None:
    text = (ROOT / "replay/mappings/handbook.yaml").read_text()
    unlabelled = tmp_path / "unlabelled.yaml"
    unlabelled.write_text(text[: text.index("\nlabels:")] + "\n")
    with pytest.raises(ConfigError, match="has no labels section.*--labels"):
        load_input(ROOT / "tests/data/replay/handbook.csv", Settings(), mapping=unlabelled,
                   work=tmp_path / "work")  # fmt: skip


def test_a_foreign_file_needs_a_work_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="work folder"):
        load_input(ROOT / "tests/data/replay/handbook.csv", Settings(),
                   mapping=ROOT / "replay/mappings/handbook.yaml")  # fmt: skip
