"""The decision log as a table: what training reads, so it learns from the features exactly as
the job computed and logged them (no recomputation, so no training/serving skew).

``fraudguard log export`` writes two Parquet files from Kafka: the committed ``decisions``
(one row per decision: identity, every logged feature value, scores, versions, exploration)
and the ``labels`` topic. ``fraudguard train DECISIONS --labels LABELS`` then trains on them
like on any feature table.

>>> rec = {"txn_id": "t1", "card_id": "c1", "event_time": "2026-11-23T10:00:00Z",
...        "decision": "approve", "score": 0.1, "base_score": 0.1, "model_version": "m1",
...        "threshold_version": "th1", "reranker_version": "none", "decided_at_ms": 5,
...        "features": {"f": 2.0}, "feature_version": "fs-1", "tier": "default",
...        "explored": False, "propensity": 1.0, "degraded": False, "late": False}
>>> table = decisions_table([rec], feature_names=("f",))
>>> table.column("ts_ms").to_pylist(), table.column("f").to_pylist()
([1795428000000], [2.0])
>>> table.schema.metadata[b"feature_set_version"]
b'fs-1'
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa

from fraudguard.config import Settings
from fraudguard.errors import TrainingError
from fraudguard.features import FEATURE_NAMES
from fraudguard.generator.labels import LABEL_FIELDS
from fraudguard.wire.transactions import parse_event_time

DECISION_COLUMNS: tuple[tuple[str, pa.DataType], ...] = (
    ("txn_id", pa.string()),
    ("card_id", pa.string()),
    ("event_time", pa.string()),
    ("decision", pa.string()),
    ("score", pa.float64()),
    ("base_score", pa.float64()),
    ("model_version", pa.string()),
    ("reranker_version", pa.string()),
    ("threshold_version", pa.string()),
    ("tier", pa.string()),
    ("decided_at_ms", pa.int64()),
    ("explored", pa.bool_()),
    ("propensity", pa.float64()),
    ("degraded", pa.bool_()),
    ("late", pa.bool_()),
    ("mcc", pa.string()),
    ("channel", pa.string()),
    ("challenger_version", pa.string()),
    ("challenger_score", pa.float64()),
)
"""The record's fields kept as columns: identity, what was decided and by what, and what the
governor's gates read (the segment the tiers saw, the shadow challenger's score)."""


def decisions_table(
    records: Iterable[Mapping[str, Any]], feature_names: Sequence[str] = FEATURE_NAMES
) -> pa.Table:
    """Decision records as a table: ``ts_ms`` from the event time, one column per feature.

    Every record must come from one feature-set version (a mix cannot be one training set);
    the version goes into the schema metadata, where training reads it.
    """
    columns: dict[str, list[Any]] = {name: [] for name, _ in DECISION_COLUMNS}
    columns["ts_ms"] = []
    values: dict[str, list[float]] = {name: [] for name in feature_names}
    versions: Counter[str] = Counter()
    for rec in records:
        for name, _ in DECISION_COLUMNS:
            columns[name].append(rec.get(name))
        if columns["base_score"][-1] is None:  # logged before base scores were
            columns["base_score"][-1] = rec["score"]
        columns["ts_ms"].append(parse_event_time(rec["event_time"]))
        features = rec["features"]
        for name in feature_names:
            values[name].append(features.get(name, float("nan")))
        versions[rec.get("feature_version", "none")] += 1
    if len(versions) > 1:
        raise TrainingError(
            f"the decision log mixes feature-set versions {dict(versions)}; export one"
        )
    types = dict(DECISION_COLUMNS) | {"ts_ms": pa.int64()}
    arrays = {name: pa.array(col, types[name]) for name, col in columns.items()}
    arrays |= {name: pa.array(col, pa.float64()) for name, col in values.items()}
    version = next(iter(versions), "none")
    return pa.table(arrays).replace_schema_metadata({b"feature_set_version": version.encode()})


def labels_table(records: Iterable[Mapping[str, Any]]) -> pa.Table:
    """``labels`` records as a table with the labels file's columns (missing ones empty)."""
    rows = list(records)
    return pa.table(
        {name: pa.array([r.get(name) for r in rows], pa.string()) for name in LABEL_FIELDS}
    )


@dataclass(frozen=True, slots=True)
class Exported:
    decisions: int
    labels: int
    skipped: int
    """Records that were not JSON objects (counted, not written)."""


def export_log(settings: Settings, decisions_path: Path, labels_path: Path) -> Exported:
    """Write the committed decision log and the labels topic to two Parquet files."""
    import pyarrow.parquet as pq

    from fraudguard.streams.kafka import read_topic

    skipped = 0

    def records(topic: str) -> Iterable[dict[str, Any]]:
        nonlocal skipped
        for msg in read_topic(settings, topic, idle_timeout_s=0.0):
            try:
                doc = orjson.loads(msg.value() or b"")
            except orjson.JSONDecodeError:
                doc = None
            if isinstance(doc, dict):
                yield doc
            else:
                skipped += 1

    decisions = decisions_table(records(settings.topics.decisions.name))
    labels = labels_table(records(settings.topics.labels.name))
    for path, table in ((decisions_path, decisions), (labels_path, labels)):
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, path)
    return Exported(decisions.num_rows, labels.num_rows, skipped)
