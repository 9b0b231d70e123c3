"""Labels as a backtest may know them: only those reported by its cut-off.

A label reported after the cut-off did not exist when the decisions would have been judged,
so a report built from the backtest must not see it; the decision's ``label`` stays empty
(immature) and ``label_reported_ms`` records when it would come.

>>> known = KnownLabels({"t1": ("fraud", 5_000), "t2": ("fraud", 9_000)}, cutoff_ms=6_000)
>>> label, reported = known.arrays(pa.array(["t3", "t2", "t1"]))
>>> label.to_pylist(), reported.to_pylist()
([None, None, 'fraud'], [None, 9000, 5000])
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from fraudguard.generator.sinks import read_records
from fraudguard.wire.transactions import parse_event_time


class KnownLabels:
    """Each labelled transaction's label and report time, with the cut-off that hides later
    ones."""

    def __init__(self, reported: dict[str, tuple[str, int]], cutoff_ms: int) -> None:
        self.reported = reported
        self.cutoff_ms = cutoff_ms
        self._ids = pa.array(list(reported), pa.string())
        got = [label if at <= cutoff_ms else None for label, at in reported.values()]
        self._labels = pa.array(got, pa.string())
        self._times = pa.array([at for _, at in reported.values()], pa.int64())

    @classmethod
    def from_file(cls, path: Path, cutoff_ms: int) -> KnownLabels:
        """A labels file as ``fraudguard generate`` and ``replay convert`` write it (JSONL or
        Parquet: ``txn_id``, ``label``, ``reported_at``...); the first report of a
        transaction counts."""
        reported: dict[str, tuple[str, int]] = {}
        for row in read_records(path):
            keep_first(reported, row["txn_id"], row["label"], parse_event_time(row["reported_at"]))
        return cls(reported, cutoff_ms)

    def arrays(self, txn_ids: pa.Array) -> tuple[pa.StringArray, pa.Int64Array]:
        """Per transaction of a batch: its label if reported by the cut-off (else null), and
        when it was or will be reported (null: never), as Arrow arrays."""
        at = pc.index_in(txn_ids, value_set=self._ids)
        return self._labels.take(at), self._times.take(at)


def keep_first(reported: dict[str, tuple[str, int]], txn_id: str, label: str, at_ms: int) -> None:
    """Note a report of ``txn_id`` in ``reported`` unless an earlier one is there: the first
    report of a transaction is the one that counts.

    >>> reported = {}
    >>> keep_first(reported, "t1", "fraud", 9_000); keep_first(reported, "t1", "legit", 5_000)
    >>> keep_first(reported, "t1", "fraud", 7_000); reported
    {'t1': ('legit', 5000)}
    """
    seen = reported.get(txn_id)
    if seen is None or at_ms < seen[1]:
        reported[txn_id] = (label, at_ms)
