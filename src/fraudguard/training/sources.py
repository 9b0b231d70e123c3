"""What ``fraudguard train`` reads: whatever a modeler has, as one labelled table.

- **A feature table** (``fraudguard features build``, or ``fraudguard log export``'s folder or
  its ``decisions.parquet``), with its labels file beside it.
- **A backtest's output folder, or its** ``decisions.parquet``: the features the backtest
  computed for each decision (its ``features`` struct, the job's kernel's values), with the
  labels file the backtest read, which its ``summary.json`` names. The decisions' own
  ``label`` column is not used: the backtest's cut-off has already hidden some labels there.
- **A foreign payments file with its column mapping**: converted by :mod:`fraudguard.replay`
  into a work folder, its features built there by the job's kernel
  (:mod:`fraudguard.features.files`, fed the fraud labels of the labels file training reads),
  then read as a feature table.

In every case a fraud label counts only if it was reported by the cut-off ``known_at``; a
transaction whose label came later is legitimate to training, like every transaction without
a known fraud label (:func:`~fraudguard.training.data.fraud_ids`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from fraudguard.config import Settings
from fraudguard.errors import ConfigError, TrainingError
from fraudguard.features import FEATURE_NAMES
from fraudguard.replay.mapping import Mapping
from fraudguard.replay.rejects import DEFAULT_MAX_SHARE
from fraudguard.training.data import (
    IDENTITY,
    VERSION_KEY,
    LabelledTable,
    default_labels_path,
    from_feature_table,
    known_frauds,
    read_table,
)

DECISIONS_FILE = "decisions.parquet"
"""What a backtest writes in its output folder."""
SUMMARY_FILE = "summary.json"
"""Beside it: the backtest's summary, which names the labels file it read."""
WIRE_COLUMNS = ("event_time", "amount", "currency", "terminal_id")
"""Columns of a transactions file that no feature table has: told apart to say what to do."""


class InputKind(Enum):
    FEATURES = "feature table"
    BACKTEST = "backtest decisions"
    FOREIGN = "foreign payments file"


@dataclass(frozen=True)
class TrainingInput:
    """The labelled rows, and where they came from (the registry records ``sources``)."""

    data: LabelledTable
    sources: dict[str, Any]


def table_file(source: Path) -> Path:
    """The file of ``source``: a folder (a backtest's or ``log export``'s) stands for its
    decisions."""
    if not source.is_dir():
        return source
    if not (source / DECISIONS_FILE).is_file():
        raise TrainingError(
            f"{source} is a folder without {DECISIONS_FILE}: not a backtest's or a decision "
            "log export's output"
        )
    return source / DECISIONS_FILE


def input_kind(source: Path, mapping: Path | None = None) -> InputKind:
    """What ``source`` is: with a mapping, a foreign file; a Parquet file (or a folder's
    decisions) with a ``features`` struct, a backtest's decisions; else a feature table."""
    if source.is_dir() and mapping is not None:
        raise ConfigError(f"{source} is a folder: --mapping converts one payments file")
    source = table_file(source)
    if mapping is not None:
        return InputKind.FOREIGN
    if source.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        try:
            schema = pq.read_schema(source)
        except pa.ArrowInvalid as exc:
            raise TrainingError(f"{source}: not a Parquet file ({exc})") from None
        if "features" in schema.names and pa.types.is_struct(schema.field("features").type):
            return InputKind.BACKTEST
    return InputKind.FEATURES


def backtest_features(decisions: pa.Table) -> pa.Table:
    """A backtest's decisions as a feature table: the identity columns and the ``features``
    struct's fields as columns, the feature set in the schema metadata.

    >>> features = pa.array([{"f": 1.5}, {"f": 2.5}])
    >>> decisions = pa.table({"txn_id": ["t1", "t2"], "ts_ms": [1, 2], "card_id": ["c", "c"],
    ...                       "features": features, "feature_version": ["fs-1", "fs-1"]})
    >>> table = backtest_features(decisions)
    >>> table.column_names, table.schema.metadata
    (['txn_id', 'ts_ms', 'card_id', 'f'], {b'feature_set_version': b'fs-1'})
    """
    missing = [
        c for c in (*IDENTITY, "features", "feature_version") if c not in decisions.schema.names
    ]
    if missing:
        raise TrainingError(f"the backtest's decisions lack columns: {', '.join(missing)}")
    struct = decisions["features"].type
    names = [struct.field(i).name for i in range(struct.num_fields)]
    columns = {name: decisions[name] for name in IDENTITY}
    columns |= dict(zip(names, decisions["features"].flatten(), strict=True))
    versions = pc.unique(decisions["feature_version"]).to_pylist()
    if len(versions) > 1:
        raise TrainingError(f"the backtest's decisions mix feature-set versions {versions}")
    table = pa.table(columns)
    return table.replace_schema_metadata({VERSION_KEY: versions[0].encode()}) if versions else table


def backtest_labels(decisions: Path) -> Path:
    """The labels file the backtest of ``decisions`` read, as its summary names it. A relative
    path is relative to where the backtest ran, which is usually a folder above its output."""
    import orjson

    summary = decisions.with_name(SUMMARY_FILE)
    recorded = orjson.loads(summary.read_bytes()).get("labels_file") if summary.is_file() else None
    if recorded is None:
        raise TrainingError(
            f"{summary} names no labels file the backtest read; name one with --labels"
        )
    path = Path(recorded)
    candidates = [path]
    if not path.is_absolute():
        candidates += [folder / path for folder in decisions.resolve().parents]
    found = next((c for c in candidates if c.is_file()), None)
    if found is None:
        raise TrainingError(
            f"{path}, the labels file the backtest read, is not there; name it with --labels"
        )
    return found


def _feature_table(source: Path) -> pa.Table:
    table = read_table(source)
    names = set(table.column_names)
    if names.isdisjoint(FEATURE_NAMES):
        if names.issuperset(WIRE_COLUMNS):
            raise TrainingError(
                f"{source} is a transactions file, not a feature table: build its features "
                "with `fraudguard features build` first"
            )
        raise TrainingError(
            f"{source} is not a feature table (it has none of the feature columns): a payments "
            "file in another layout needs --mapping (replay/mappings/ has the shipped ones)"
        )
    return table


def convert_and_build(
    source: Path,
    mapping: Mapping,
    work: Path,
    settings: Settings,
    max_reject_share: float = DEFAULT_MAX_SHARE,
    say: Callable[[str], None] = lambda _: None,
    labels: Path | None = None,
) -> tuple[Path, Path | None]:
    """Convert the foreign ``source`` by ``mapping`` into ``work`` and build its features
    there; the feature table's path and the converted labels' (None: the mapping has none).
    The label-fed features are fed by ``labels`` if given, else by the converted labels, so
    the model learns from what the job computes with the labels it will be told. ``say`` gets
    each step's one-line summary."""
    from fraudguard.features.files import build_feature_file, default_features_path
    from fraudguard.replay.convert import convert_file

    work.mkdir(parents=True, exist_ok=True)
    report = convert_file(
        source, mapping, work / "transactions.parquet", max_reject_share=max_reject_share
    )
    say(report.summary())
    built = build_feature_file(
        report.out,
        default_features_path(report.out),
        settings,
        max_reject_share,
        labels or report.labels_out,
    )
    say(built.summary())
    return built.out, report.labels_out


def load_input(
    source: Path,
    settings: Settings,
    *,
    mapping: Path | None = None,
    labels: Path | None = None,
    known_at: datetime | None = None,
    work: Path | None = None,
    max_reject_share: float = DEFAULT_MAX_SHARE,
    say: Callable[[str], None] = lambda _: None,
) -> TrainingInput:
    """The labelled rows of ``source`` of any :class:`InputKind`. ``labels`` (our labels
    format) replaces the labels the source comes with; ``work`` is where a foreign file is
    converted (required with ``mapping``)."""
    kind = input_kind(source, mapping)
    source = table_file(source)
    sources: dict[str, Any] = {"input": kind.value}
    if kind is InputKind.FOREIGN:
        from fraudguard.replay.mapping_file import load_mapping

        assert mapping is not None
        if work is None:
            raise ConfigError("a foreign file needs a work folder for its converted files")
        loaded = load_mapping(mapping)
        if loaded.labels is None and labels is None:
            raise ConfigError(f"{mapping} has no labels section; name a labels file with --labels")
        features, converted = convert_and_build(
            source, loaded, work, settings, max_reject_share, say, labels
        )
        sources |= {"source": str(source.resolve()), "mapping": str(mapping.resolve())}
        labels = labels or converted
        assert labels is not None  # the mapping has labels, or --labels named them
        table = read_table(features)
    elif kind is InputKind.BACKTEST:
        features = source
        labels = labels or backtest_labels(features)
        table = backtest_features(read_table(features))
    else:
        features = source
        labels = labels or default_labels_path(source)
        table = _feature_table(source)
    if not labels.is_file():
        raise TrainingError(f"no labels file at {labels}; name it with --labels")
    frauds = known_frauds(read_table(labels), known_at, str(labels))
    sources |= {
        "features": str(features.resolve()),
        "labels": str(labels.resolve()),
        "labels_known_at": known_at.isoformat() if known_at else None,
    }
    return TrainingInput(from_feature_table(table, frauds), sources)
