"""Labels in a separate file: read first (labels are few), then joined to their transactions
as the data streams past, by our transaction id (the mapping's ``labels.txn_id``, by default
its ``fields.txn_id``, applied to the labels file's row).

A label row that cannot be read, a second label for one transaction, and a label whose
transaction never comes are refused on record, in the same rejects file as the data's rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fraudguard.errors import ConfigError
from fraudguard.replay.converter import LabelEntry, RowConverter
from fraudguard.replay.mapping import Mapping
from fraudguard.replay.rejects import RejectLog, RowRefused
from fraudguard.replay.sources import BadRow, ForeignFile


@dataclass
class PendingLabels:
    """The labels of a labels file by our transaction id, with their row number and row,
    until their transactions come."""

    file: str
    entries: dict[str, tuple[int, LabelEntry, dict[str, Any]]] = field(default_factory=dict)


def open_labels_file(
    mapping: Mapping, source: Path, labels_file: Path | None, labels_out: Path | None
) -> ForeignFile | None:
    """The separate labels file to read, checked before anything is written."""
    labels = mapping.labels
    if labels is None and labels_out is not None:
        raise ConfigError(f"{labels_out}: the mapping {mapping.name} has no labels to write")
    if labels is None or labels.file is None:
        if labels_file is not None:
            raise ConfigError(f"{labels_file}: the mapping's labels are a column, not a file")
        return None
    path = labels_file or source.parent / labels.file
    if not path.is_file():
        raise ConfigError(f"labels.file: no labels file at {path}")
    found = ForeignFile(path)
    found.require(mapping.label_file_columns())
    return found


def read_labels_file(
    source: ForeignFile, converter: RowConverter, rejects: RejectLog
) -> PendingLabels:
    """Every label of a separate labels file (its columns checked), by our transaction id."""
    source.require(converter.mapping.label_file_columns())
    pending = PendingLabels(source.path.name)
    name, entries = pending.file, pending.entries
    for number, row in source.rows():
        try:
            if isinstance(row, BadRow):
                raise row.error
            entry = converter.label_entry(row, number)
            if entry.txn_id in entries:
                first = entries[entry.txn_id][0]
                detail = f"{entry.txn_id} was labelled at row {first} already"
                raise RowRefused("duplicate_label", "txn_id", detail)
        except RowRefused as exc:
            rejects.refuse(number, exc, row.original if isinstance(row, BadRow) else row, name)
            continue
        rejects.accept(name)
        entries[entry.txn_id] = (number, entry, row)
    return pending


def refuse_unmatched(pending: PendingLabels, rejects: RejectLog) -> None:
    """Refuses, on record, the labels whose transactions never came: dropping them would lose
    fraud without a trace."""
    for number, _entry, row in pending.entries.values():
        error = RowRefused("unknown_transaction", "txn_id", "no converted row has this id")
        rejects.refuse(number, error, row, pending.file, counted=True)
