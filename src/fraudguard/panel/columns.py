"""The stored decisions as columns in memory, kept up to date from the database, so a what-if
over a million of them is array arithmetic rather than a million-row query.

Decisions never change once stored, so the columns only grow (by ``seq``); labels arrive later
and set a row's label (the newest label of a transaction wins, so a correction supersedes);
retention trims the oldest rows. :meth:`DecisionColumns.refresh` brings in what the ingester
stored since the last call, from any process.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlalchemy import Engine, func, select

from fraudguard.decision.whatif import FRAUD, LEGIT, UNKNOWN, ScoredColumns
from fraudguard.panel import tables as t

_CHUNK = 200_000
_FIELDS: dict[str, Any] = {
    "seq": np.int64, "event_ms": np.int64, "score": np.float64, "amount_eur": np.float64,
    "mcc": "<U4", "channel": "<U12", "country": "<U2", "decision": np.int8,
    "explored": bool, "propensity": np.float64,
}  # fmt: skip
_DECISION_CODE = {"approve": 0, "review": 1, "block": 2}


class DecisionColumns:
    """Columns of every stored decision, in ``seq`` order, with the newest label of each."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lock = threading.Lock()
        self._arrays: dict[str, np.ndarray] = {
            name: np.empty(0, dtype=dtype) for name, dtype in _FIELDS.items()
        }
        self._arrays["label"] = np.empty(0, dtype=np.int8)
        self._last_decision = 0
        self._last_label = 0

    def __len__(self) -> int:
        return len(self._arrays["seq"])

    def refresh(self) -> int:
        """Load what was stored since the last refresh; the number of new decisions."""
        with self._lock, self.engine.connect() as conn:
            loaded = 0
            oldest = conn.execute(select(func.min(t.decisions.c.seq))).scalar()
            if oldest is not None and len(self) and self._arrays["seq"][0] < oldest:
                keep = self._arrays["seq"] >= oldest  # retention removed rows from the store
                self._arrays = {name: column[keep] for name, column in self._arrays.items()}
            previous_decision = self._last_decision
            d = t.decisions.c
            while True:
                rows = conn.execute(
                    select(d.seq, d.event_ms, d.score, d.amount_eur, d.mcc, d.channel,
                           d.country, d.decision, d.explored, d.propensity)
                    .where(d.seq > self._last_decision).order_by(d.seq).limit(_CHUNK)
                ).all()  # fmt: skip
                if not rows:
                    break
                self._append(rows)
                loaded += len(rows)
                self._last_decision = int(rows[-1][0])
            self._apply_labels(conn, previous_decision)
            return loaded

    def _append(self, rows: Sequence[Any]) -> None:
        columns: list[Sequence[Any]] = list(zip(*rows, strict=True))
        new: dict[str, np.ndarray] = {}
        for (name, dtype), values in zip(_FIELDS.items(), columns, strict=True):
            if name == "decision":
                values = [_DECISION_CODE[v] for v in values]
            new[name] = np.array(values, dtype=dtype)
        new["label"] = np.full(len(rows), UNKNOWN, dtype=np.int8)
        self._arrays = {
            name: np.concatenate([self._arrays[name], new[name]]) for name in self._arrays
        }

    def _apply_labels(self, conn, previous_decision: int) -> None:  # type: ignore[no-untyped-def]
        """Labels stored since the last refresh, then every label of the decisions just loaded
        (a label may be stored before its decision); in label order, so the newest wins."""
        lab, d = t.labels.c, t.decisions.c
        joined = select(lab.seq, d.seq, lab.label).join(t.decisions, d.txn_id == lab.txn_id)
        rows = list(conn.execute(joined.where(lab.seq > self._last_label)).all())
        if len(self) and self._last_decision > previous_decision:
            rows += conn.execute(
                joined.where(d.seq > previous_decision, lab.seq <= self._last_label)
            ).all()
        newest = conn.execute(select(func.max(lab.seq))).scalar()
        self._last_label = max(self._last_label, int(newest or 0))
        if not rows:
            return
        rows.sort(key=lambda row: row[0])
        seqs = self._arrays["seq"]
        label_column = self._arrays["label"]
        decision_seqs = np.array([row[1] for row in rows], dtype=np.int64)
        at = np.searchsorted(seqs, decision_seqs).clip(0, max(len(seqs) - 1, 0))
        if not len(seqs):
            return
        codes = np.array([FRAUD if row[2] == "fraud" else LEGIT for row in rows], dtype=np.int8)
        found = np.flatnonzero(seqs[at] == decision_seqs)
        # The newest label of each decision: the last occurrence of its index.
        last = len(found) - 1 - np.unique(at[found][::-1], return_index=True)[1]
        label_column[at[found][last]] = codes[found][last]

    def window(self, from_ms: int, to_ms: int) -> tuple[ScoredColumns, np.ndarray]:
        """The columns of the decisions with event times in ``[from_ms, to_ms)``, and their
        ``seq`` (to look a row up in the store)."""
        with self._lock:
            a = self._arrays
            rows = (a["event_ms"] >= from_ms) & (a["event_ms"] < to_ms)
            columns = ScoredColumns(
                score=a["score"][rows], mcc=a["mcc"][rows], channel=a["channel"][rows],
                amount_eur=a["amount_eur"][rows], label=a["label"][rows],
                event_ms=a["event_ms"][rows], explored=a["explored"][rows],
                propensity=a["propensity"][rows],
            )  # fmt: skip
            return columns, a["seq"][rows]
