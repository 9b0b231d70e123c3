"""A transactions file to a feature table file, by the job's kernel: what ``fraudguard features
build`` writes, and what ``fraudguard train`` builds from a foreign file after converting it.

Rows are validated like the job validates a transaction (without the clock checks); refused
ones go to a rejects file beside the table, and more than ``max_reject_share`` of them fails
the run before any feature is computed. A labels file feeds the label-fed features with its
fraud labels, each from the first payment after its report time, as the job applies them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fraudguard.config import Settings
from fraudguard.errors import ConfigError
from fraudguard.features.labels import FraudLabels, usage_line
from fraudguard.features.offline import build_features, feature_table
from fraudguard.features.registry import FEATURE_NAMES, FEATURE_SET_VERSION
from fraudguard.replay.rejects import DEFAULT_MAX_SHARE

TABLE_SUFFIXES = (".parquet", ".csv", ".jsonl")


@dataclass(frozen=True)
class FeatureFile:
    """A written feature table and what building it refused."""

    out: Path
    rows: int
    refused: int
    rejects: str
    """The rejects log's one-line summary."""
    elapsed_s: float
    labels: dict[str, Any] | None = None
    """:meth:`FraudLabels.usage` of the labels file, if one was given."""

    def summary(self) -> str:
        """One line for a person.

        >>> line = FeatureFile(Path("t.parquet"), 3, 0, "no row refused", 0.5).summary()
        >>> line.startswith("3 transactions x 65 features"), line.endswith("t.parquet in 0.5 s")
        (True, True)
        >>> usage = {"fed": 2, "unused": {"legit": 5}}
        >>> FeatureFile(Path("t.parquet"), 3, 0, "", 0.5, usage).summary().split("; ")[-1]
        '2 fraud labels fed the features, 5 labels did not (legit 5)'
        """
        return (
            f"{self.rows:,} transactions x {len(FEATURE_NAMES)} features "
            f"({FEATURE_SET_VERSION}) -> {self.out} in {self.elapsed_s:.1f} s"
            + (f"; {self.rejects}" if self.refused else "")
            + (f"; {usage_line(self.labels)}" if self.labels is not None else "")
        )


def default_features_path(source: Path) -> Path:
    """``SOURCE`` with ``.features.parquet``, where training looks for the labels beside it.

    >>> default_features_path(Path("data/h.jsonl")).as_posix()
    'data/h.features.parquet'
    """
    return source.with_suffix(".features.parquet")


def build_feature_file(
    source: Path,
    out: Path,
    settings: Settings,
    max_reject_share: float = DEFAULT_MAX_SHARE,
    labels: Path | None = None,
) -> FeatureFile:
    """Every feature of every transaction of ``source`` (``.jsonl``, ``.csv`` or ``.parquet`` in
    the wire format) into ``out``, with ``feature_set_version`` in a Parquet table's schema
    metadata; a retried id is kept once. The fraud labels of ``labels`` (a labels file) feed
    the label-fed features."""
    import orjson
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from fraudguard.generator import read_records
    from fraudguard.replay.rejects import RejectLog, RowRefused, default_rejects_path, parse_row

    if out.suffix not in TABLE_SUFFIXES:
        raise ConfigError(f"--out must end in .parquet, .csv or .jsonl, not {out.suffix!r}")
    started = time.monotonic()
    try:
        records = read_records(source)
    except pa.ArrowInvalid as exc:
        # A CSV cell that does not fit the wire schema (an amount "n/a") stops Arrow's reader.
        raise ConfigError(f"{source}: not a transactions file: {exc}") from None
    txns = []
    with RejectLog(default_rejects_path(out), source.name, max_reject_share) as rejects:
        for number, record in enumerate(records, 1):
            doc = {k: v for k, v in record.items() if v is not None or k != "device_id"}
            try:
                txns.append(parse_row(doc))
            except RowRefused as exc:
                rejects.refuse(number, exc, record)
                continue
            rejects.accept()
    rejects.check()
    fraud = FraudLabels.from_file(labels) if labels is not None else FraudLabels()
    rows = build_features(
        txns, dedupe_ttl_ms=settings.flink.dedupe_ttl_ms, settings=settings, labels=fraud.labels
    )
    table = pa.table(feature_table(rows))
    table = table.replace_schema_metadata({"feature_set_version": FEATURE_SET_VERSION})
    if out.suffix == ".parquet":
        pq.write_table(table, out)
    elif out.suffix == ".csv":
        pacsv.write_csv(table, out)
    else:
        with out.open("wb") as f:
            for row in table.to_pylist():
                f.write(orjson.dumps(row) + b"\n")
    refused = sum(rejects.refused.values())
    elapsed = time.monotonic() - started
    usage = None
    if labels is not None:
        usage = fraud.usage(fraud.fed_before(max((t.ts_ms for t in txns), default=None)))
    return FeatureFile(out, table.num_rows, refused, rejects.summary(), elapsed, usage)
