"""A foreign file's rows one at a time, never the whole file in memory: CSV, Parquet or JSONL.

Rows are numbered from 1 in the order read, the CSV header not counted, so a refusal's row
number finds the row. CSV cells stay text (an id such as ``0042`` keeps its zeros, and one odd
cell cannot turn a whole column's type); the converter reads numbers and times from text.

>>> import tempfile
>>> path = Path(tempfile.mkdtemp()) / "x.csv"
>>> _ = path.write_text("id,amount\\n0042,12.5\\n7\\n")
>>> source = ForeignFile(path)
>>> source.columns
('id', 'amount')
>>> [(n, row if isinstance(row, dict) else row.error.reason) for n, row in source.rows()]
[(1, {'id': '0042', 'amount': '12.5'}), (2, 'bad_row')]
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from fraudguard.errors import ConfigError
from fraudguard.replay.rejects import RowRefused

SOURCE_FORMATS: tuple[str, ...] = (".csv", ".parquet", ".jsonl")
BATCH_ROWS = 10_000
"""Parquet rows decoded at a time: memory stays a few megabytes whatever the file's length."""


@dataclass(frozen=True, slots=True)
class BadRow:
    """A row that could not be read as named cells, with what was read of it."""

    original: Any
    error: RowRefused


class ForeignFile:
    """The columns and the rows of a data or labels file, chosen by its suffix."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.suffix = path.suffix.lower()
        if self.suffix not in SOURCE_FORMATS:
            raise ConfigError(
                f"{path}: unknown file format {self.suffix!r}; use one of"
                f" {', '.join(SOURCE_FORMATS)}"
            )
        if not path.is_file():
            raise ConfigError(f"{path}: no such file")
        self.columns: tuple[str, ...] = self._columns()

    def _columns(self) -> tuple[str, ...]:
        if self.suffix == ".parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            try:
                return tuple(pq.ParquetFile(self.path).schema_arrow.names)
            except (OSError, pa.ArrowException) as exc:
                raise ConfigError(f"{self.path}: not a Parquet file: {exc}") from None
        if self.suffix == ".jsonl":
            # JSONL has no header: the first object's keys stand for one, and a row without
            # one of them is refused when a field needs it.
            first = next((row for _, row in self.rows() if isinstance(row, dict)), {})
            return tuple(first)
        with self._text() as text:
            header = next(csv.reader(text), None)
        if not header:
            raise ConfigError(f"{self.path}: empty; a CSV file needs a header row")
        repeated = sorted({c for c in header if header.count(c) > 1})
        if repeated:
            raise ConfigError(f"{self.path}: the header repeats {', '.join(repeated)}")
        return tuple(header)

    def require(self, columns: dict[str, str]) -> None:
        """Refuses a mapping that reads a column this file does not have, naming the mapping's
        key (``columns`` maps each column to the key that reads it)."""
        for column, key in columns.items():
            if column not in self.columns:
                shown = ", ".join(self.columns[:20]) + (" ..." if len(self.columns) > 20 else "")
                where = f"{self.path.name} (its columns: {shown})"
                raise ConfigError(f"{key}: the column {column!r} is not in {where}")

    def rows(self) -> Iterator[tuple[int, dict[str, Any] | BadRow]]:
        """Each row's number and its cells by column, or a :class:`BadRow`."""
        if self.suffix == ".parquet":
            return self._parquet_rows()
        if self.suffix == ".jsonl":
            return self._jsonl_rows()
        return self._csv_rows()

    def _text(self) -> Any:
        # utf-8-sig: spreadsheet exports start with a byte-order mark that would join the
        # first column's name.
        return self.path.open(encoding="utf-8-sig", newline="")

    def _csv_rows(self) -> Iterator[tuple[int, dict[str, Any] | BadRow]]:
        width, number = len(self.columns), 0
        with self._text() as text:
            reader = csv.reader(text)
            try:
                next(reader)
                for cells in reader:
                    if not cells:
                        continue  # a blank line is not a row
                    number += 1
                    if len(cells) == width:
                        yield number, dict(zip(self.columns, cells, strict=True))
                    else:
                        detail = f"{len(cells)} fields where the header has {width}"
                        yield number, BadRow(cells, RowRefused("bad_row", None, detail))
            except UnicodeDecodeError as exc:
                raise ConfigError(
                    f"{self.path}: not UTF-8 after row {number} ({exc.reason})"
                ) from None
            except csv.Error as exc:
                raise ConfigError(f"{self.path}: not CSV after row {number}: {exc}") from None

    def _jsonl_rows(self) -> Iterator[tuple[int, dict[str, Any] | BadRow]]:
        number = 0
        with self.path.open("rb") as lines:
            for line in lines:
                if not line.strip():
                    continue
                number += 1
                try:
                    row = orjson.loads(line)
                except orjson.JSONDecodeError as exc:
                    text = line.decode("utf-8", errors="replace").rstrip("\n")
                    yield number, BadRow(text, RowRefused("bad_row", None, f"not JSON: {exc}"))
                    continue
                if isinstance(row, dict):
                    yield number, row
                else:
                    detail = f"a JSON {type(row).__name__}, not an object"
                    yield number, BadRow(row, RowRefused("bad_row", None, detail))

    def _parquet_rows(self) -> Iterator[tuple[int, dict[str, Any] | BadRow]]:
        import pyarrow.parquet as pq

        number = 0
        for batch in pq.ParquetFile(self.path).iter_batches(batch_size=BATCH_ROWS):
            for row in batch.to_pylist():
                number += 1
                yield number, row
