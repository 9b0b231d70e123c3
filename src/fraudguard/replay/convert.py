"""A foreign payments file to FraudGuard's transactions and labels files, by a mapping.

The file is streamed: rows are read and written in batches, so memory holds the labels (few)
and one batch, whatever the file's length. Refused rows go to the rejects file as they come;
the outputs appear under their names only when the run refuses no more than its allowed
share, so a failed run leaves nothing that looks usable. Transactions keep the file's order;
labels are written ordered by report time, as ``fraudguard generate`` writes them.

>>> import tempfile
>>> from fraudguard.generator import read_records
>>> from fraudguard.replay.mapping_file import mapping_from_yaml
>>> folder = Path(tempfile.mkdtemp())
>>> _ = (folder / "data.csv").write_text(
...     "id,card,shop,amt,ts,fraud\\n1,c1,s1,9.5,1522540800,0\\n2,c1,s2,400,1522544400,1\\n")
>>> mapping = mapping_from_yaml('''
... name: tiny
... fields: {txn_id: id, card_id: card, customer_id: card, merchant_id: shop, terminal_id: shop,
...          amount: amt, currency: {constant: EUR}, mcc: {constant: "5411"},
...          country: {constant: FR}, channel: {constant: online}}
... time: {column: ts, form: epoch_s}
... labels: {column: fraud, fraud_values: [1], reported_after: 7d}
... ''')
>>> report = convert_file(folder / "data.csv", mapping, folder / "out.jsonl")
>>> report.transactions, report.fraud_labels, report.refused
(2, 1, {})
>>> [row["reported_at"] for row in read_records(report.labels_out)]
['2018-04-08T01:00:00.000Z']
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from fraudguard.errors import ConfigError
from fraudguard.generator.batch import WIRE_FIELDS, WIRE_SCHEMA
from fraudguard.generator.labels import GroundTruthLabel
from fraudguard.generator.sinks import LABEL_SCHEMA, check_format, labels_table, open_writer
from fraudguard.replay.converter import RowConverter
from fraudguard.replay.label_files import (
    PendingLabels,
    open_labels_file,
    read_labels_file,
    refuse_unmatched,
)
from fraudguard.replay.mapping import Mapping
from fraudguard.replay.rejects import DEFAULT_MAX_SHARE, RejectLog, RowRefused
from fraudguard.replay.sources import BATCH_ROWS, BadRow, ForeignFile
from fraudguard.wire.transactions import Transaction


@dataclass
class ConvertReport:
    """What a conversion read, wrote and refused."""

    out: Path
    labels_out: Path | None
    rejects_out: Path
    rows: int = 0
    transactions: int = 0
    fraud_labels: int = 0
    legit_labels: int = 0
    refused: dict[str, int] = field(default_factory=dict)
    """Refused rows by reason, of the data file and the labels file."""
    elapsed_s: float = 0.0

    def summary(self) -> str:
        labels = f"{self.fraud_labels:,} fraud" + (
            f" and {self.legit_labels:,} legit" if self.legit_labels else ""
        )
        refused = sum(self.refused.values())
        reasons = ", ".join(f"{r} {n:,}" for r, n in sorted(self.refused.items()))
        return (
            f"{self.transactions:,} of {self.rows:,} rows converted -> {self.out}; {labels}"
            f" labels -> {self.labels_out}; {refused:,} refused"
            + (f" ({reasons})" if refused else "")
            + f" -> {self.rejects_out}; {self.elapsed_s:.1f} s"
        )


def mapped_rows(
    source: ForeignFile,
    converter: RowConverter,
    rejects: RejectLog,
    pending: PendingLabels | None = None,
) -> Iterator[tuple[Transaction, GroundTruthLabel | None]]:
    """Each converted transaction of ``source`` with its label (``None`` when it has none to
    write), counting and keeping the refused rows; ``pending`` holds a labels file's labels,
    which are taken out as their transactions come."""
    source.require(converter.mapping.data_columns())
    labels = converter.mapping.labels
    in_column = labels is not None and labels.file is None
    write_legit = labels is not None and labels.write_legit
    for number, row in source.rows():
        label = None
        try:
            if isinstance(row, BadRow):
                raise row.error
            txn = converter.transaction(row, number)
            if in_column:
                label = converter.label(row, number, txn)
        except RowRefused as exc:
            rejects.refuse(number, exc, row.original if isinstance(row, BadRow) else row)
            continue
        rejects.accept()
        found = pending.entries.pop(txn.txn_id, None) if pending else None
        if found is not None and (found[1].fraud or write_legit):
            number, entry, original = found
            try:
                label = converter.joined_label(txn, entry)
            except RowRefused as exc:
                # The payment stays: it is valid, and its label's refusal is on record.
                assert pending is not None
                rejects.refuse(number, exc, original, pending.file, counted=True)
        yield txn, label


def convert_file(
    source: Path,
    mapping: Mapping,
    out: Path,
    labels_out: Path | None = None,
    labels_file: Path | None = None,
    rejects_out: Path | None = None,
    max_reject_share: float = DEFAULT_MAX_SHARE,
) -> ConvertReport:
    """Convert ``source`` into the transactions file ``out`` and, when the mapping has labels,
    a labels file (default beside ``out``); refused rows go to ``rejects_out`` (default beside
    ``out``). Raises :class:`~fraudguard.replay.rejects.TooManyRejects` over the share."""
    from fraudguard.generator.sinks import default_labels_path
    from fraudguard.replay.rejects import default_rejects_path

    started = time.perf_counter()
    check_format(out)
    data = ForeignFile(source)
    data.require(mapping.data_columns())
    labels_source = open_labels_file(mapping, source, labels_file, labels_out)
    if mapping.labels is not None:
        labels_out = labels_out or default_labels_path(out)
        check_format(labels_out)
    rejects_out = rejects_out or default_rejects_path(out)
    _distinct(source, out, labels_out, rejects_out)
    for path in (out, labels_out, rejects_out):
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
    converter = RowConverter(mapping)
    report = ConvertReport(out, labels_out, rejects_out)
    written = [_partial(out)] + ([_partial(labels_out)] if labels_out else [])
    try:
        with RejectLog(rejects_out, data.path.name, max_reject_share) as rejects:
            pending = None
            if labels_source is not None:
                pending = read_labels_file(labels_source, converter, rejects)
            labels = _write_transactions(
                mapped_rows(data, converter, rejects, pending), written[0], report
            )
            if pending is not None:
                refuse_unmatched(pending, rejects)
        report.rows, report.refused = rejects.rows[data.path.name], dict(rejects.reasons)
        rejects.check()
        if labels_out is not None:
            writer = open_writer(written[1], LABEL_SCHEMA)
            writer.write(labels_table(labels))
            writer.close()
            report.fraud_labels = sum(label.label == "fraud" for label in labels)
            report.legit_labels = len(labels) - report.fraud_labels
        for partial, final in zip(written, (out, labels_out), strict=False):
            partial.replace(final)  # type: ignore[arg-type]
    finally:
        for partial in written:
            partial.unlink(missing_ok=True)
    report.elapsed_s = time.perf_counter() - started
    return report


def _write_transactions(
    rows: Iterator[tuple[Transaction, GroundTruthLabel | None]], path: Path, report: ConvertReport
) -> list[GroundTruthLabel]:
    labels: list[GroundTruthLabel] = []
    columns: dict[str, list[Any]] = {name: [] for name in WIRE_FIELDS}
    writer = open_writer(path, WIRE_SCHEMA)
    try:
        for txn, label in rows:
            for name, values in columns.items():
                values.append(getattr(txn, name))
            if label is not None:
                labels.append(label)
            report.transactions += 1
            if len(columns["txn_id"]) >= BATCH_ROWS:
                writer.write(pa.table(columns, schema=WIRE_SCHEMA))
                columns = {name: [] for name in WIRE_FIELDS}
        if columns["txn_id"] or report.transactions == 0:
            writer.write(pa.table(columns, schema=WIRE_SCHEMA))
    finally:
        writer.close()
    return labels


def _partial(path: Path) -> Path:
    # Same folder and suffix (the writer picks the format by suffix), hidden until complete.
    return path.with_name(f".{path.stem}.partial{path.suffix}")


def _distinct(source: Path, *outputs: Path | None) -> None:
    seen = {source.resolve()}
    for path in outputs:
        if path is not None and path.resolve() in seen:
            raise ConfigError(f"{path}: used twice (as input or another output); name another")
        if path is not None:
            seen.add(path.resolve())
