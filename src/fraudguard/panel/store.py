"""The decision store: committed decisions and labels from Kafka as rows, written idempotently
with the Kafka offsets they came from.

A batch of records and the offsets after it are one database transaction: a crash before the
commit leaves neither, and the ingester starts again from the stored offsets; a record stored
twice (by a second ingester, or a replay) is ignored by its key (``txn_id`` for a decision, its
topic position for a label). A record that cannot be stored is kept in ``ingest_rejects`` with
its reason, never skipped silently.

>>> from fraudguard.panel.db import open_database
>>> store = DecisionStore(open_database("sqlite://"))
>>> raw = orjson.dumps({"txn_id": "t1", "card_id": "c1", "event_time": "2026-11-23T10:00:00Z",
...     "decision": "review", "score": 0.7, "model_version": "m1", "threshold_version": "v1",
...     "decided_at_ms": 1, "features": {"txn_amount_eur": 40.0}, "amount": 40.0,
...     "currency": "EUR", "mcc": "5411", "channel": "online", "country": "FR"})
>>> batch = Batch(decisions=[Position("decisions", 0, 0, raw)] * 2)
>>> store.write(batch).stored_decisions, store.write(batch).stored_decisions
(1, 0)
>>> store.counts()
{'decisions': 1, 'labels': 0, 'rejects': 0}
"""

from __future__ import annotations

import math
import struct
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson
from sqlalchemy import Connection, Engine, Insert, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite

from fraudguard.errors import InvalidInput
from fraudguard.features import FEATURE_NAMES, FEATURE_SET_VERSION
from fraudguard.panel import tables as t
from fraudguard.panel.cases import CasePolicy, case_row
from fraudguard.wire.currency import to_eur
from fraudguard.wire.transactions import parse_event_time

DECISIONS = ("approve", "review", "block")
LABELS = ("fraud", "legit")
_FEATURES = struct.Struct(f"<{len(FEATURE_NAMES)}f")


class Position(NamedTuple):
    """One Kafka record and where it was read."""

    topic: str
    partition: int
    offset: int
    value: bytes | None


@dataclass
class Batch:
    """What one ingest transaction stores: decisions, labels, and the offsets to resume from."""

    decisions: list[Position] = field(default_factory=list)
    labels: list[Position] = field(default_factory=list)
    next_offsets: dict[tuple[str, int], int] = field(default_factory=dict)


@dataclass
class Written:
    stored_decisions: int = 0
    stored_labels: int = 0
    rejected: int = 0


class DecisionStore:
    """Rows in and out of the decision store on one engine (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine, cases: CasePolicy | None = None) -> None:
        self.engine = engine
        self.cases = cases or CasePolicy()
        dialect = engine.dialect.name
        self._insert = postgresql.insert if dialect == "postgresql" else sqlite.insert

    def offsets(self) -> dict[tuple[str, int], int]:
        """Where ingestion stands: the next offset to read per topic partition."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.ingest_offsets)).all()
        return {(row.topic, row.partition): row.next_offset for row in rows}

    def write(self, batch: Batch, now_ms: int | None = None) -> Written:
        """Store a batch and its offsets in one transaction; duplicates are ignored."""
        now_ms = now_ms or int(time.time() * 1000)
        written = Written()
        decision_rows, label_rows, rejects = [], [], []
        for position in batch.decisions:
            try:
                decision_rows.append(decision_row(position.value))
            except InvalidInput as exc:
                rejects.append(_reject(position, exc, now_ms))
        for position in batch.labels:
            try:
                label_rows.append(label_row(position))
            except InvalidInput as exc:
                rejects.append(_reject(position, exc, now_ms))
        with self.engine.begin() as conn:
            if decision_rows:
                stmt = self._insert(t.decisions).on_conflict_do_nothing(index_elements=["txn_id"])
                written.stored_decisions = _inserted(conn, stmt, decision_rows)
                reviews = [
                    case_row(row, self.cases, now_ms)
                    for row in decision_rows
                    if row["decision"] == "review"
                ]
                if reviews:  # every review decision is a case for the analysts
                    stmt = self._insert(t.cases).on_conflict_do_nothing(index_elements=["txn_id"])
                    conn.execute(stmt, reviews)
            if label_rows:
                stmt = self._insert(t.labels).on_conflict_do_nothing(
                    index_elements=["topic", "partition", "offset"]
                )
                written.stored_labels = _inserted(conn, stmt, label_rows)
            if rejects:
                stmt = self._insert(t.ingest_rejects).on_conflict_do_nothing(
                    index_elements=["topic", "partition", "offset"]
                )
                written.rejected = _inserted(conn, stmt, rejects)
            for (topic, partition), offset in batch.next_offsets.items():
                stmt = self._insert(t.ingest_offsets).values(
                    topic=topic, partition=partition, next_offset=offset
                )
                conn.execute(
                    stmt.on_conflict_do_update(
                        index_elements=["topic", "partition"], set_={"next_offset": offset}
                    )
                )
        return written

    def purge(self, older_than_ms: int) -> int:
        """Delete decisions whose event time is before ``older_than_ms``, and their labels."""
        with self.engine.begin() as conn:
            old = select(t.decisions.c.txn_id).where(t.decisions.c.event_ms < older_than_ms)
            conn.execute(delete(t.labels).where(t.labels.c.txn_id.in_(old)))
            result = conn.execute(delete(t.decisions).where(t.decisions.c.event_ms < older_than_ms))
        return int(result.rowcount or 0)

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return {
                name: int(conn.execute(select(func.count()).select_from(table)).scalar_one())
                for name, table in (
                    ("decisions", t.decisions),
                    ("labels", t.labels),
                    ("rejects", t.ingest_rejects),
                )
            }

    def rejects_by_reason(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t.ingest_rejects.c.reason, func.count()).group_by(t.ingest_rejects.c.reason)
            ).all()
        return {reason: int(n) for reason, n in rows}


def _inserted(conn: Connection, stmt: Insert, rows: list[dict[str, Any]]) -> int:
    """Run ``stmt`` for ``rows``; how many it inserted. Counted by what RETURNING gives back (a
    row that conflicts returns nothing): an executemany's rowcount is the sum on SQLite but -1
    through psycopg."""
    return len(conn.execute(stmt.returning(*stmt.table.primary_key), rows).all())


def _reject(position: Position, error: InvalidInput, now_ms: int) -> dict[str, Any]:
    return {
        "topic": position.topic,
        "partition": position.partition,
        "offset": position.offset,
        "reason": error.reason,
        "detail": error.detail[:500],
        "at_ms": now_ms,
    }


def _field(doc: dict[str, Any], name: str, kind: type | tuple[type, ...], reason: str) -> Any:
    value = doc.get(name)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise InvalidInput(reason, f"{name}: missing or not a {getattr(kind, '__name__', kind)}")
    return value


def _document(raw: bytes | None, reason: str) -> dict[str, Any]:
    try:
        doc = orjson.loads(raw or b"")
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(reason, f"not JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise InvalidInput(reason, "not a JSON object")
    return doc


def decision_row(raw: bytes | None) -> dict[str, Any]:
    """The store's row of one ``decisions`` record; ``InvalidInput`` says what is wrong."""
    doc = _document(raw, "bad_decision")
    txn_id = _field(doc, "txn_id", str, "bad_decision")
    decision = _field(doc, "decision", str, "bad_decision")
    if decision not in DECISIONS:
        raise InvalidInput("bad_decision", f"decision {decision!r} is not one of {DECISIONS}")
    score = float(_field(doc, "score", (int, float), "bad_decision"))
    try:
        event_ms = parse_event_time(_field(doc, "event_time", str, "bad_decision"))
    except InvalidInput as exc:
        raise InvalidInput("bad_decision", f"event_time: {exc.detail}") from None
    logged = doc.get("features")
    features: dict[str, Any] = logged if isinstance(logged, dict) else {}
    amount = float(doc.get("amount") or 0.0)
    currency = str(doc.get("currency") or "")
    amount_eur = features.get("txn_amount_eur")
    if not isinstance(amount_eur, int | float):
        amount_eur = to_eur(amount, currency) if currency and amount else 0.0
    base = doc.get("base_score")
    challenger_score = doc.get("challenger_score")
    challenger_version = doc.get("challenger_version")
    if not isinstance(challenger_score, int | float) or isinstance(challenger_score, bool):
        challenger_score = None
    return {
        "txn_id": txn_id,
        "card_id": str(doc.get("card_id") or ""),
        "merchant_id": str(doc.get("merchant_id") or ""),
        "terminal_id": str(doc.get("terminal_id") or ""),
        "event_ms": event_ms,
        "decided_at_ms": int(doc.get("decided_at_ms") or 0),
        "amount": amount,
        "currency": currency,
        "amount_eur": float(amount_eur),
        "mcc": str(doc.get("mcc") or ""),
        "channel": str(doc.get("channel") or ""),
        "country": str(doc.get("country") or ""),
        "score": score,
        "base_score": float(base) if isinstance(base, int | float) else score,
        "decision": decision,
        "tier": str(doc.get("tier") or "default"),
        "model_version": str(doc.get("model_version") or ""),
        "reranker_version": str(doc.get("reranker_version") or "none"),
        "threshold_version": str(doc.get("threshold_version") or ""),
        "feature_version": str(doc.get("feature_version") or ""),
        "explored": bool(doc.get("explored", False)),
        "propensity": float(doc.get("propensity", 1.0)),
        "degraded": bool(doc.get("degraded", False)),
        "late": bool(doc.get("late", False)),
        "features": pack_features(features, str(doc.get("feature_version") or "")),
        "challenger_version": str(challenger_version) if challenger_version else None,
        "challenger_score": None if challenger_score is None else float(challenger_score),
    }


def pack_features(features: dict[str, Any], feature_version: str) -> bytes | None:
    """The logged values as float32 in the registry's order, or None for another feature set.

    >>> unpacked = unpack_features(pack_features({FEATURE_NAMES[0]: 2.5}, FEATURE_SET_VERSION))
    >>> unpacked[FEATURE_NAMES[0]], math.isnan(unpacked[FEATURE_NAMES[1]])
    (2.5, True)
    """
    if feature_version != FEATURE_SET_VERSION:
        return None
    values = []
    for name in FEATURE_NAMES:
        value = features.get(name)
        values.append(float(value) if isinstance(value, int | float) else math.nan)
    return _FEATURES.pack(*values)


def unpack_features(packed: bytes) -> dict[str, float]:
    return dict(zip(FEATURE_NAMES, _FEATURES.unpack(packed), strict=True))


def label_row(position: Position) -> dict[str, Any]:
    """The store's row of one ``labels`` record; ``InvalidInput`` says what is wrong."""
    doc = _document(position.value, "bad_label")
    txn_id = _field(doc, "txn_id", str, "bad_label")
    label = doc.get("label")
    if label not in LABELS:
        raise InvalidInput("bad_label", f"label must be 'fraud' or 'legit', not {label!r}")
    try:
        reported_ms = parse_event_time(_field(doc, "reported_at", str, "bad_label"))
    except InvalidInput as exc:
        raise InvalidInput("bad_label", f"reported_at: {exc.detail}") from None
    rest = {k: v for k, v in doc.items() if k not in ("txn_id", "label", "reported_at", "source")}
    return {
        "txn_id": txn_id,
        "label": label,
        "reported_at_ms": reported_ms,
        "source": str(doc.get("source") or "")[:32],
        "topic": position.topic,
        "partition": position.partition,
        "offset": position.offset,
        "provenance": orjson.dumps(rest).decode() if rest else None,
    }


def chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
