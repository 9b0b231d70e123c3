"""What training reads: features, labels and identity of transactions, in time order.

Any table with ``txn_id``, ``ts_ms``, ``card_id`` and one column per feature becomes a
:class:`LabelledTable` through :func:`from_feature_table`. Today that table is the file
``fraudguard features build`` writes; the job's decision log (features as logged, so no
training/serving skew) will be another source of the same columns. A transaction without a
fraud label is legitimate.

>>> import pyarrow as pa
>>> table = pa.table({"txn_id": ["t2", "t1", "t3"], "ts_ms": [20, 10, 30],
...                   "card_id": ["c1", "c1", "c2"], "amount": [5.0, 7.0, 900.0]})
>>> data = from_feature_table(table, fraud_ids={"t3"}, feature_names=("amount",))
>>> data.txn_id.tolist(), data.y.tolist(), data.X[:, 0].tolist()
(['t1', 't2', 't3'], [0, 0, 1], [7.0, 5.0, 900.0])
>>> len(data.fingerprint())
64
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from fraudguard.errors import TrainingError
from fraudguard.features import FEATURE_NAMES, FEATURE_SET_VERSION

IDENTITY: tuple[str, ...] = ("txn_id", "ts_ms", "card_id")
"""Columns every source must have besides the features."""
VERSION_KEY = b"feature_set_version"
"""Schema metadata key under which ``fraudguard features build`` records the feature set."""


@dataclass(frozen=True, eq=False)
class LabelledTable:
    """Rows sorted by ``(ts_ms, txn_id)``; ``X`` is float32, the precision trees split on."""

    X: np.ndarray
    y: np.ndarray
    ts_ms: np.ndarray
    card_id: np.ndarray
    txn_id: np.ndarray
    feature_names: tuple[str, ...]
    feature_set_version: str

    def __len__(self) -> int:
        return len(self.y)

    @property
    def frauds(self) -> int:
        return int(self.y.sum())

    @property
    def fraud_rate(self) -> float:
        return self.frauds / len(self) if len(self) else 0.0

    def rows(self, index: slice) -> LabelledTable:
        """A time range of rows (a view: nothing is copied)."""
        return LabelledTable(
            self.X[index],
            self.y[index],
            self.ts_ms[index],
            self.card_id[index],
            self.txn_id[index],
            self.feature_names,
            self.feature_set_version,
        )

    def fingerprint(self) -> str:
        """SHA-256 over feature names, ids, times, values and labels: equal tables, equal hash,
        whatever file format they were read from."""
        h = hashlib.sha256()
        h.update(f"{self.feature_set_version}\n{','.join(self.feature_names)}\n".encode())
        h.update("\n".join(self.txn_id.tolist()).encode())
        for array in (self.ts_ms.astype("<i8"), self.y.astype("<i1"), self.X.astype("<f4")):
            h.update(np.ascontiguousarray(array).tobytes())
        return h.hexdigest()


def from_feature_table(
    table: pa.Table,
    fraud_ids: Iterable[str],
    feature_names: Sequence[str] = FEATURE_NAMES,
    feature_set_version: str | None = None,
) -> LabelledTable:
    """Labelled rows from any table with :data:`IDENTITY` columns and the named features.

    The feature-set version is ``feature_set_version``, else the table's schema metadata, else
    the current one (a CSV or JSON table carries no metadata).
    """
    missing = [c for c in (*IDENTITY, *feature_names) if c not in table.column_names]
    if missing:
        shown = ", ".join(missing[:8]) + (
            f" and {len(missing) - 8} more" if len(missing) > 8 else ""
        )
        raise TrainingError(f"the feature table lacks columns: {shown}")
    if feature_set_version is None:
        meta = table.schema.metadata or {}
        found = meta.get(VERSION_KEY)
        feature_set_version = found.decode() if found else FEATURE_SET_VERSION
    table = table.select([*IDENTITY, *feature_names]).sort_by(
        [("ts_ms", "ascending"), ("txn_id", "ascending")]
    )
    txn_id = table["txn_id"].cast(pa.string())
    fraud = pc.is_in(txn_id, value_set=pa.array(sorted(set(fraud_ids)), pa.string()))
    X = np.empty((table.num_rows, len(feature_names)), dtype=np.float32)
    for j, name in enumerate(feature_names):
        X[:, j] = table[name].to_numpy(zero_copy_only=False)
    return LabelledTable(
        X=X,
        y=fraud.to_numpy(zero_copy_only=False).astype(np.int8),
        ts_ms=table["ts_ms"].to_numpy(zero_copy_only=False).astype(np.int64),
        card_id=table["card_id"].cast(pa.string()).to_numpy(zero_copy_only=False),
        txn_id=txn_id.to_numpy(zero_copy_only=False),
        feature_names=tuple(feature_names),
        feature_set_version=feature_set_version,
    )


def fraud_ids(labels: pa.Table, known_at: datetime | None = None) -> set[str]:
    """Ids of transactions labelled ``fraud``; with ``known_at``, only labels reported by then
    (what the bank knew at that moment, since fraud is reported days late)."""
    for column in ("txn_id", "label"):
        if column not in labels.column_names:
            raise TrainingError(f"the labels table lacks the column {column!r}")
    frame = labels.select(
        [c for c in ("txn_id", "label", "reported_at") if c in labels.column_names]
    ).to_pandas()
    fraud = frame["label"].astype(str) == "fraud"
    if known_at is not None:
        if "reported_at" not in frame:
            raise TrainingError("labels have no reported_at column to filter by report time")
        reported = pd.to_datetime(frame["reported_at"], utc=True, format="ISO8601")
        fraud &= reported <= pd.Timestamp(known_at).tz_convert("UTC")
    return set(frame.loc[fraud, "txn_id"].astype(str))


def known_frauds(labels: pa.Table, known_at: datetime | None = None, name: str = "") -> set[str]:
    """:func:`fraud_ids`, refusing a result with no fraud in it with the reason: the labels
    hold no fraud at all, or none was reported by ``known_at`` (the first report then is
    named, so the modeler sees how late a cut-off would do). ``name`` is the labels file's.

    >>> lab = pa.table({"txn_id": ["t1", "t2"], "label": ["fraud", "fraud"],
    ...                 "reported_at": ["2026-01-09T00:00:00Z", "2026-01-02T00:00:00Z"]})
    >>> sorted(known_frauds(lab, datetime.fromisoformat("2026-01-05T00:00:00Z")))
    ['t2']
    >>> known_frauds(lab, datetime.fromisoformat("2026-01-01T00:00:00Z"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    fraudguard.errors.TrainingError: no fraud label was reported by the cut-off 2026-01-01...
    """
    frauds = fraud_ids(labels, known_at)
    if frauds:
        return frauds
    every = fraud_ids(labels)
    where = f"{name}: " if name else ""
    if not every:
        raise TrainingError(f"{where}no fraud label: nothing to learn fraud from")
    assert known_at is not None  # with no cut-off, every fraud label is known
    fraud = labels.filter(pc.equal(labels["label"].cast(pa.string()), "fraud")).to_pandas()
    first = pd.to_datetime(fraud["reported_at"], utc=True, format="ISO8601").min().isoformat()
    raise TrainingError(
        f"{where}no fraud label was reported by the cut-off {known_at.isoformat()} "
        f"({len(every):,} fraud labels come later, the first at {first})"
    )


def read_table(path: Path) -> pa.Table:
    """A ``.parquet``, ``.csv`` or ``.jsonl`` file as an Arrow table."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        return pq.read_table(path)
    if suffix == ".csv":
        import pyarrow.csv as pacsv

        # Ids such as "0001" must stay text; everything else is inferred.
        strings = {c: pa.string() for c in ("txn_id", "card_id", "merchant_id", "label")}
        return pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(column_types=strings))
    if suffix == ".jsonl":
        import pyarrow.json as pajson

        return pajson.read_json(path)
    raise TrainingError(f"{path}: unknown table format {suffix!r}; use .parquet, .csv or .jsonl")


def default_labels_path(features: Path) -> Path:
    """Where ``fraudguard generate`` put the labels of the file a feature table was built from:
    the first existing of ``<stem>.labels.{parquet,csv,jsonl}``, the table's own format first.

    >>> default_labels_path(Path("/nowhere/h.features.parquet")).as_posix()
    '/nowhere/h.labels.parquet'
    """
    stem = features.stem.removesuffix(".features")
    suffixes = dict.fromkeys([features.suffix, ".parquet", ".csv", ".jsonl"])
    candidates = [features.with_name(f"{stem}.labels{suffix}") for suffix in suffixes]
    return next((c for c in candidates if c.exists()), candidates[0])


def read_labelled(
    features: Path, labels: Path | None = None, known_at: datetime | None = None
) -> LabelledTable:
    """A feature table file and its labels file (default: :func:`default_labels_path`)."""
    labels = labels or default_labels_path(features)
    if not labels.exists():
        raise TrainingError(f"no labels file at {labels}; name it with --labels")
    frauds = known_frauds(read_table(labels), known_at, str(labels))
    return from_feature_table(read_table(features), frauds)
