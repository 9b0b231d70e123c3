"""Files of generated transactions and their labels: ``.jsonl``, ``.csv`` or ``.parquet``,
chosen by suffix, with a reader that gives back the wire records.

Transactions are written batch by batch as they are generated; labels are kept (they are few)
and written at the end, ordered by ``reported_at``, so a reader replaying them in order learns
fraud when the bank did.

>>> import tempfile
>>> from fraudguard.generator import GeneratorConfig, PaymentStream
>>> stream = PaymentStream(GeneratorConfig(cards=100, merchants=60, days=1))
>>> folder = Path(tempfile.mkdtemp())
>>> report = write_files(stream, folder / "txns.csv")
>>> report.labels_out.name
'txns.labels.csv'
>>> len(read_records(folder / "txns.csv")) == report.transactions
True
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import orjson
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from fraudguard.errors import ConfigError
from fraudguard.generator.batch import WIRE_SCHEMA
from fraudguard.generator.labels import LABEL_FIELDS, GroundTruthLabel
from fraudguard.generator.report import FileReport
from fraudguard.generator.stream import PaymentStream

FORMATS: tuple[str, ...] = (".jsonl", ".csv", ".parquet")
LABEL_SCHEMA = pa.schema([pa.field(name, pa.string(), nullable=False) for name in LABEL_FIELDS])


class TableWriter(Protocol):
    def write(self, table: pa.Table) -> None: ...

    def close(self) -> None: ...


class _Jsonl:
    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self._file = path.open("wb")

    def write(self, table: pa.Table) -> None:
        dumps = orjson.dumps
        self._file.write(b"".join(dumps(row) + b"\n" for row in table.to_pylist()))

    def close(self) -> None:
        self._file.close()


class _Csv:
    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self._writer = pacsv.CSVWriter(str(path), schema)

    def write(self, table: pa.Table) -> None:
        self._writer.write_table(table)

    def close(self) -> None:
        self._writer.close()


class _Parquet:
    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self._writer = pq.ParquetWriter(str(path), schema, compression="zstd")

    def write(self, table: pa.Table) -> None:
        self._writer.write_table(table)

    def close(self) -> None:
        self._writer.close()


_WRITERS: dict[str, Callable[[Path, pa.Schema], TableWriter]] = {
    ".jsonl": _Jsonl,
    ".csv": _Csv,
    ".parquet": _Parquet,
}


def check_format(path: Path) -> str:
    """The file format of ``path``, from its suffix."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ConfigError(
            f"{path}: unknown file format {suffix!r}; use one of {', '.join(FORMATS)}"
        )
    return suffix


def open_writer(path: Path, schema: pa.Schema = WIRE_SCHEMA) -> TableWriter:
    """A writer for ``path`` in the format its suffix names."""
    return _WRITERS[check_format(path)](path, schema)


def default_labels_path(out: Path) -> Path:
    """``txns.parquet`` -> ``txns.labels.parquet``."""
    return out.with_name(f"{out.stem}.labels{out.suffix}")


def labels_table(labels: list[GroundTruthLabel]) -> pa.Table:
    """Labels ordered by report time (then transaction id), as an Arrow table."""
    ordered = sorted(labels, key=lambda lab: (lab.reported_ms, lab.txn_id))
    columns = [[getattr(lab, name) for lab in ordered] for name in LABEL_FIELDS]
    return pa.Table.from_arrays(columns, schema=LABEL_SCHEMA)


def write_files(
    stream: PaymentStream,
    out: Path,
    labels_out: Path | None = None,
    with_labels: bool = True,
    limit: int | None = None,
) -> FileReport:
    """Write ``stream`` (which must end) to ``out`` and its labels to ``labels_out``
    (next to ``out`` by default)."""
    if stream.config.days is None and limit is None:
        raise ConfigError("an endless stream cannot be written to a file; set days or a limit")
    check_format(out)
    labels_path = (labels_out or default_labels_path(out)) if with_labels else None
    if labels_path is not None:
        check_format(labels_path)
    started = time.perf_counter()
    report = FileReport(out=out, labels_out=labels_path)
    labels: list[GroundTruthLabel] = []
    writer = open_writer(out)
    try:
        for batch in stream.batches():
            if limit is not None:
                batch = batch.head(limit - report.transactions)
            writer.write(batch.to_arrow())
            report.add(batch)
            labels.extend(batch.labels)
            if limit is not None and report.transactions >= limit:
                break
    finally:
        writer.close()
    if labels_path is not None:
        label_writer = open_writer(labels_path, LABEL_SCHEMA)
        label_writer.write(labels_table(labels))
        label_writer.close()
        report.labels = len(labels)
    report.elapsed_s = time.perf_counter() - started
    return report


def read_records(path: Path) -> list[dict[str, Any]]:
    """The records of a transactions or labels file, as the JSON objects they stand for."""
    suffix = check_format(path)
    if suffix == ".jsonl":
        with path.open("rb") as f:
            return [orjson.loads(line) for line in f if line.strip()]
    if suffix == ".parquet":
        return pq.read_table(str(path)).to_pylist()
    with path.open() as text:
        header = text.readline()
    # Only a labels file has a label column (both name the payment's entities).
    schema = LABEL_SCHEMA if "label" in next(csv.reader([header]), []) else WIRE_SCHEMA
    options = pacsv.ConvertOptions(
        column_types={f.name: f.type for f in schema}, strings_can_be_null=True
    )
    return pacsv.read_csv(str(path), convert_options=options).to_pylist()
