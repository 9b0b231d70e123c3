"""Stored decisions: one by transaction id, and the store's own state."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path
from sqlalchemy import select

from fraudguard.errors import FraudGuardError
from fraudguard.panel import tables as t
from fraudguard.panel.deps import State, Viewer
from fraudguard.panel.schemas import StoreStatus

router = APIRouter(prefix="/api", tags=["decisions"])


class DecisionNotFound(FraudGuardError):
    http_status = 404


@router.get("/decisions/{txn_id}")
def decision(state: State, session: Viewer, txn_id: str = Path(max_length=64)) -> dict[str, Any]:
    """A stored decision with its labels, newest label last."""
    with state.engine.connect() as conn:
        row = (
            conn.execute(select(t.decisions).where(t.decisions.c.txn_id == txn_id))
            .mappings()
            .first()
        )
        if row is None:
            raise DecisionNotFound(f"no stored decision for {txn_id!r}")
        labels = (
            conn.execute(
                select(t.labels.c.label, t.labels.c.reported_at_ms, t.labels.c.source)
                .where(t.labels.c.txn_id == txn_id)
                .order_by(t.labels.c.seq)
            )
            .mappings()
            .all()
        )
    found = {k: v for k, v in row.items() if k != "features"}
    return {**found, "labels": [dict(label) for label in labels]}


@router.get("/store", response_model=StoreStatus)
def store(state: State, session: Viewer) -> StoreStatus:
    """How much the decision store holds, what it refused and why, and where ingestion stands."""
    counts = state.store.counts()
    offsets = {f"{topic}/{p}": o for (topic, p), o in sorted(state.store.offsets().items())}
    return StoreStatus(**counts, rejects_by_reason=state.store.rejects_by_reason(), offsets=offsets)
