"""The audit log, read-only (leads and admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse

from fraudguard.panel import audit as audit_log
from fraudguard.panel.deps import Lead, State
from fraudguard.panel.schemas import MAX_BIGINT, AuditEntry

router = APIRouter(prefix="/api/audit", tags=["audit"])

ActorQ = Query(default=None, max_length=64)
ActionQ = Query(default=None, max_length=64)
# One annotation, not one shared Query(): FastAPI checks the bounds of only the first parameter
# that shares a Query object.
TimeMs = Annotated[int | None, Query(ge=0, le=MAX_BIGINT)]


@router.get("", response_model=list[AuditEntry])
def entries(
    state: State,
    session: Lead,
    actor: str | None = ActorQ,
    action: str | None = ActionQ,
    from_ms: TimeMs = None,
    to_ms: TimeMs = None,
    limit: int = Query(default=200, ge=1, le=5000),
    offset: int = Query(default=0, ge=0, le=MAX_BIGINT),
) -> list[AuditEntry]:
    """Audit rows, newest first, filtered by actor, action prefix and time."""
    rows = audit_log.entries(state.engine, actor, action, from_ms, to_ms, limit, offset)
    return [AuditEntry.model_validate(r) for r in rows]


@router.get(".csv", response_class=PlainTextResponse)
def csv(
    state: State,
    session: Lead,
    actor: str | None = ActorQ,
    action: str | None = ActionQ,
    from_ms: TimeMs = None,
    to_ms: TimeMs = None,
) -> PlainTextResponse:
    """The same rows as CSV (at most 100,000)."""
    rows = audit_log.entries(state.engine, actor, action, from_ms, to_ms, limit=100_000)
    return PlainTextResponse(
        audit_log.to_csv(rows),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="audit.csv"'},
    )
