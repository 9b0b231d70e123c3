"""The review queue and its cases: filter, claim, take the next, decide, escalate, correct."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from fraudguard.errors import FraudGuardError
from fraudguard.panel import cases as service
from fraudguard.panel import explain
from fraudguard.panel.deps import Analyst, Lead, State, Viewer, actor_of

router = APIRouter(prefix="/api/cases", tags=["cases"])
CaseId = Annotated[int, Path(ge=1, le=2**31 - 1)]
MAX_BULK = 500


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VerdictIn(_Body):
    verdict: Literal["fraud", "legit", "escalate"]
    note: str = Field(default="", max_length=2_000)
    lean: Literal["fraud", "legit"] | None = None
    """With ``escalate``: the verdict the analyst leans to, for the lead to confirm or not."""


class CorrectionIn(_Body):
    verdict: Literal["fraud", "legit"]
    reason: str = Field(min_length=1, max_length=2_000)


class BulkIn(_Body):
    ids: list[Annotated[int, Field(ge=1, le=2**31 - 1)]] = Field(min_length=1, max_length=MAX_BULK)
    action: Literal["claim", "release", "fraud", "legit", "escalate"]


class QueueOut(BaseModel):
    total: int
    cases: list[dict[str, Any]]


@router.get("", response_model=QueueOut)
def queue(
    request: Request,
    state: State,
    session: Viewer,
    status: Literal["active", "open", "escalated", "closed"] = "active",
    assignee: str | None = Query(default=None, max_length=64),
    tier: str | None = Query(default=None, max_length=64),
    mcc: str | None = Query(default=None, max_length=4),
    channel: str | None = Query(default=None, max_length=16),
    country: str | None = Query(default=None, max_length=2),
    older_than_h: float | None = Query(default=None, ge=0, le=24 * 365),
    newer_than_h: float | None = Query(default=None, ge=0, le=24 * 365),
    limit: int = Query(default=50, ge=1, le=500),
    offset: int = Query(default=0, ge=0, le=10**9),
) -> QueueOut:
    """Cases, highest priority first; ``assignee=me`` for your own, ``unassigned`` for nobody's."""
    who = session.user.name if assignee == "me" else assignee
    where = service.QueueFilter(
        status, who, tier, mcc, channel, country, older_than_h, newer_than_h
    )
    total, rows = service.queue(state.engine, where, limit, offset)
    return QueueOut(total=total, cases=rows)


@router.post("/next")
def take_next(request: Request, state: State, session: Analyst) -> dict[str, Any] | None:
    """Assign yourself the highest-priority open case nobody holds."""
    return service.take_next(state.engine, session, actor_of(session, request))


@router.get("/{case_id}")
def case(case_id: CaseId, state: State, session: Viewer) -> dict[str, Any]:
    """A case with its decision, why the model scored it, the card's recent history and the
    newest online features of the card and merchant."""
    return explain.case_view(state.engine, state.settings, case_id)


@router.post("/{case_id}/claim")
def claim(case_id: CaseId, request: Request, state: State, session: Analyst) -> dict[str, Any]:
    """Take a case."""
    return service.claim(state.engine, session, actor_of(session, request), case_id)


@router.post("/{case_id}/release")
def release(case_id: CaseId, request: Request, state: State, session: Analyst) -> dict[str, Any]:
    """Give a case back to the queue."""
    return service.release(state.engine, session, actor_of(session, request), case_id)


@router.post("/{case_id}/verdict")
def verdict(
    case_id: CaseId, body: VerdictIn, request: Request, state: State, session: Analyst
) -> dict[str, Any]:
    """Confirm fraud, mark legitimate (both send a label), or escalate to a lead."""
    result = service.decide(
        state.engine,
        state.settings.panel,
        session,
        actor_of(session, request),
        case_id,
        body.verdict,
        body.note,
        body.lean,
    )
    _wake_publisher(request)
    return result


@router.post("/{case_id}/correct")
def correct(
    case_id: CaseId, body: CorrectionIn, request: Request, state: State, session: Lead
) -> dict[str, Any]:
    """Correct a closed case: a new label that supersedes the old one."""
    result = service.correct(
        state.engine,
        state.settings.panel,
        session,
        actor_of(session, request),
        case_id,
        body.verdict,
        body.reason,
    )
    _wake_publisher(request)
    return result


@router.post("/bulk")
def bulk(body: BulkIn, request: Request, state: State, session: Analyst) -> dict[str, Any]:
    """One action on a selection of cases; each is done or refused on its own."""
    actor = actor_of(session, request)
    done, refused = [], {}
    for case_id in body.ids:
        try:
            if body.action == "claim":
                service.claim(state.engine, session, actor, case_id)
            elif body.action == "release":
                service.release(state.engine, session, actor, case_id)
            else:
                service.decide(
                    state.engine, state.settings.panel, session, actor, case_id, body.action
                )
            done.append(case_id)
        except FraudGuardError as exc:
            refused[str(case_id)] = str(exc)
    _wake_publisher(request)
    return {"done": done, "refused": refused}


def _wake_publisher(request: Request) -> None:
    publisher = getattr(request.app.state, "label_publisher", None)
    if publisher is not None:
        publisher.wake.set()
