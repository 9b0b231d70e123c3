"""What the governor service judges by: the recent window of committed decisions and the
labels reported for them, held in memory between rounds (no Kafka here).

Each decision keeps only the fields the gates read, so a week of decisions fits; the window
becomes the table of :func:`~fraudguard.streams.decision_log.decisions_table` (the decision
log's own columns), which :meth:`DecisionLog.from_table` reads as it reads an exported file.

>>> window = DecisionWindow(window_ms=3_600_000, max_decisions=1_000)
>>> window.take(b'{"txn_id": "t1", "event_time": "2026-12-05T06:00:00Z", "decision": "block",'
...             b' "score": 0.9, "model_version": "m1", "features": {"txn_amount_eur": 12.5}}')
True
>>> window.take(b"[1]"), len(window), window.refused
(False, 1, 1)
>>> table = window.table()
>>> table["decision"].to_pylist(), table["txn_amount_eur"].to_pylist()
(['block'], [12.5])
>>> window.prune(now_ms=1_796_450_400_000 + 3_600_001); len(window)
0
"""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Iterator
from typing import Any

import orjson
import pyarrow as pa

from fraudguard.backtest.labels import keep_first
from fraudguard.decision.tiers import AMOUNT_FEATURE
from fraudguard.errors import InvalidInput
from fraudguard.streams.decision_log import decisions_table
from fraudguard.wire.labels import label_fields, label_object, label_time
from fraudguard.wire.transactions import parse_event_time

KEPT = ("txn_id", "event_time", "decision", "score", "base_score", "model_version",
        "explored", "propensity", "degraded", "mcc", "channel", "challenger_version",
        "challenger_score")  # fmt: skip
"""The fields of a decision record the gates read (and what the table needs to be built)."""
SHARED = frozenset({"decision", "model_version", "mcc", "channel", "challenger_version"})
"""Fields with few distinct values: interned, so a week of decisions holds one copy of each."""


class DecisionWindow:
    """The committed decisions of the last ``window_ms`` (by event time), at most the newest
    ``max_decisions`` of them, in the order read."""

    def __init__(self, window_ms: int, max_decisions: int) -> None:
        self.window_ms = window_ms
        self._rows: deque[tuple[int, float, tuple[Any, ...]]] = deque(maxlen=max_decisions)
        self.refused = 0
        """Records that were not decisions (not JSON, no id, no event time): counted, left
        out."""

    def __len__(self) -> int:
        return len(self._rows)

    def take(self, value: bytes | None) -> bool:
        """Keep one ``decisions`` record's gate fields; False (counted) when it is not one."""
        try:
            doc = orjson.loads(value or b"")
            ts_ms = parse_event_time(doc["event_time"])
            amount = float((doc.get("features") or {}).get(AMOUNT_FEATURE, float("nan")))
            if not isinstance(doc["txn_id"], str) or not isinstance(doc["score"], float | int):
                raise TypeError("no txn_id or score")
            kept = tuple(_shared(key, doc.get(key)) for key in KEPT)
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, InvalidInput):
            self.refused += 1
            return False
        self._rows.append((ts_ms, amount, kept))
        return True

    def prune(self, now_ms: int) -> None:
        """Forget the decisions older than the window."""
        since = now_ms - self.window_ms
        if any(row[0] < since for row in self._rows):
            kept = [row for row in self._rows if row[0] >= since]
            self._rows.clear()
            self._rows.extend(kept)

    def txn_ids(self) -> set[str]:
        return {row[2][0] for row in self._rows}

    def _records(self) -> Iterator[dict[str, Any]]:
        for _, amount, kept in self._rows:
            record = dict(zip(KEPT, kept, strict=True))
            record["features"] = {AMOUNT_FEATURE: amount}
            yield record

    def table(self) -> pa.Table:
        """The window as the decision log's table (its columns, and the amount in euro)."""
        return decisions_table(self._records(), feature_names=(AMOUNT_FEATURE,))


def _shared(key: str, value: Any) -> Any:
    return sys.intern(value) if key in SHARED and isinstance(value, str) else value


class LabelBook:
    """The first report of each labelled transaction read from ``labels`` (the rule every
    reader of labels follows: :func:`~fraudguard.backtest.labels.keep_first`).

    >>> book = LabelBook()
    >>> book.take(b'{"txn_id": "t1", "label": "fraud", "reported_at": "2026-12-05T06:00:00Z"}')
    True
    >>> book.take(b'{"txn_id": "t2", "label": "maybe"}'), book.refused
    (False, 1)
    >>> book.reported
    {'t1': ('fraud', 1796450400000)}
    >>> book.prune(keep={"t9"}, since_ms=1796450400001); book.reported
    {}
    """

    def __init__(self) -> None:
        self.reported: dict[str, tuple[str, int]] = {}
        self.refused = 0

    def take(self, value: bytes | None) -> bool:
        """Note one ``labels`` record; False (counted) when it cannot be read."""
        try:
            doc = label_object(value, "bad_label")
            txn_id, fraud = label_fields(doc, "bad_label")
            at_ms = label_time(doc, "reported_at", "bad_label")
        except InvalidInput:
            self.refused += 1
            return False
        keep_first(self.reported, txn_id, "fraud" if fraud else "legit", at_ms)
        return True

    def prune(self, keep: set[str], since_ms: int) -> None:
        """Forget the labels of decisions no longer in the window, but those reported since
        ``since_ms``: a label may be read before its decision (two topics, two readers)."""
        self.reported = {
            txn: found
            for txn, found in self.reported.items()
            if txn in keep or found[1] >= since_ms
        }
