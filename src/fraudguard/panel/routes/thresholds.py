"""Threshold tiers: in force, drafts, what-if, four-eyes publishing and rollback."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request

from fraudguard.decision.tiers_file import tiers_yaml
from fraudguard.panel import thresholds as service
from fraudguard.panel.deps import Analyst, Lead, State, Viewer, actor_of
from fraudguard.panel.schemas import (
    MAX_ROW_ID,
    DraftOut,
    Note,
    Publication,
    Reason,
    RollbackIn,
    ThresholdsOut,
    TiersText,
    ValidationOut,
    WhatIfIn,
)

router = APIRouter(prefix="/api/thresholds", tags=["thresholds"])

DraftId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]


@router.get("", response_model=ThresholdsOut)
def in_force(state: State, session: Viewer) -> ThresholdsOut:
    """The tiers in force and every publication, with when decisions first carried each."""
    found = service.in_force(state.settings)
    history = [
        Publication(
            **h, first_decision_at_ms=service.first_decision_with(state.engine, h["version"])
        )
        for h in found.history
    ]
    return ThresholdsOut(
        version=found.tiers.version,
        tiers=found.tiers.to_dict(),
        yaml=tiers_yaml(found.tiers),
        history=history,
    )


@router.post("/validate", response_model=ValidationOut)
def validate(body: TiersText, session: Viewer) -> ValidationOut:
    """Check a draft's YAML with the job's own loader; a 400 names the bad field."""
    tiers = service.parse_draft(body.yaml)
    return ValidationOut(version=tiers.version, tiers=tiers.to_dict())


@router.post("/whatif")
def what_if(body: WhatIfIn, state: State, session: Analyst) -> dict[str, Any]:
    """The draft against the tiers in force over the stored decisions of a period."""
    draft = service.parse_draft(body.yaml)
    current = service.in_force(state.settings).tiers
    return service.what_if_report(
        state.columns, state.engine, state.settings, draft, current, days=body.days
    )


@router.get("/drafts", response_model=list[DraftOut])
def drafts(state: State, session: Viewer) -> list[DraftOut]:
    """Drafts and proposals, newest first."""
    return [DraftOut.model_validate(d) for d in service.list_drafts(state.engine)]


@router.post("/drafts", response_model=DraftOut, status_code=201)
def create_draft(body: TiersText, request: Request, state: State, session: Lead) -> DraftOut:
    """Save a new draft (its YAML must load)."""
    return DraftOut.model_validate(
        service.save_draft(state.engine, actor_of(session, request), body.yaml)
    )


@router.get("/drafts/{draft_id}", response_model=DraftOut)
def draft(draft_id: DraftId, state: State, session: Viewer) -> DraftOut:
    """One draft."""
    return DraftOut.model_validate(service.get_draft(state.engine, draft_id))


@router.put("/drafts/{draft_id}", response_model=DraftOut)
def edit_draft(
    draft_id: DraftId, body: TiersText, request: Request, state: State, session: Lead
) -> DraftOut:
    """Edit a draft that was not proposed yet."""
    return DraftOut.model_validate(
        service.save_draft(state.engine, actor_of(session, request), body.yaml, draft_id)
    )


@router.post("/drafts/{draft_id}/propose", response_model=DraftOut)
def propose(
    draft_id: DraftId, body: Reason, request: Request, state: State, session: Lead
) -> DraftOut:
    """Ask another lead or an admin to approve the draft."""
    return DraftOut.model_validate(
        service.propose(state.engine, actor_of(session, request), draft_id, body.reason)
    )


@router.post("/drafts/{draft_id}/approve", response_model=DraftOut)
def approve(
    draft_id: DraftId, body: Note, request: Request, state: State, session: Lead
) -> DraftOut:
    """Approve a proposal and publish it to the running job (not your own proposal)."""
    return DraftOut.model_validate(
        service.approve(
            state.engine,
            state.settings,
            session.user,
            actor_of(session, request),
            draft_id,
            body.note,
        )
    )


@router.post("/drafts/{draft_id}/reject", response_model=DraftOut)
def reject(
    draft_id: DraftId, body: Note, request: Request, state: State, session: Lead
) -> DraftOut:
    """Turn a proposal down."""
    return DraftOut.model_validate(
        service.reject(state.engine, actor_of(session, request), draft_id, body.note)
    )


@router.post("/rollback", response_model=DraftOut, status_code=201)
def rollback(body: RollbackIn, request: Request, state: State, session: Lead) -> DraftOut:
    """Propose publishing an earlier version again; approved like any proposal."""
    return DraftOut.model_validate(
        service.propose_rollback(
            state.engine, state.settings, actor_of(session, request), body.version, body.reason
        )
    )
