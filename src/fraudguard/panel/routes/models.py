"""The model registry, the champion and its shadow challenger, the automatic lifecycle, the
re-ranker snapshots; leads and admins promote, roll back and freeze, with a reason."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field

from fraudguard.panel import loop
from fraudguard.panel import models as service
from fraudguard.panel.deps import Lead, State, Viewer, actor_of
from fraudguard.panel.security import Role

router = APIRouter(prefix="/api/models", tags=["models"])
VERSION = Path(max_length=128, pattern=r"^[A-Za-z0-9._-]+$")


class _Reason(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    reason: str = Field(min_length=1, max_length=2_000)


class PromoteIn(_Reason):
    version: str = Field(min_length=1, max_length=128)


class RerankerRollbackIn(_Reason):
    to: str | None = Field(default=None, max_length=128)


class UnfreezeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    reason: str = Field(default="", max_length=2_000)


@router.get("")
def registry(state: State, session: Viewer) -> dict[str, Any]:
    """Every model, the champion and its history."""
    return service.registry_view(state.settings)


@router.get("/comparison")
def compare(state: State, session: Viewer) -> dict[str, Any]:
    """The champion against the shadow challenger on the stored decisions both scored: average
    precision on matured labels and on the explored sample, score PSI, scoring cost and the
    promotion gate's verdict; or why there is not enough to compare."""
    return service.comparison_view(state.engine, state.settings)


@router.get("/lifecycle")
def lifecycle(state: State, session: Viewer) -> dict[str, Any]:
    """The governor's promotions and rollbacks with their reasons, its newest round and the
    freeze; for leads and admins, the changes people made in the panel too."""
    return service.lifecycle_view(state.engine, state.settings, session.user.role.allows(Role.LEAD))


@router.get("/labels")
def labels(
    state: State, session: Viewer, days: int = Query(default=30, ge=1, le=365)
) -> dict[str, Any]:
    """Labels reported per UTC day and source, fraud and legitimate apart, the last ``days``."""
    return loop.labels_per_day(state.engine, days)


@router.get("/retrain")
def retrain(state: State, session: Viewer) -> dict[str, Any]:
    """The newest retrained model and its report: cut-off, training set, the winner, margin."""
    return loop.last_retrain(state.settings)


@router.get("/rerankers")
def rerankers(state: State, session: Viewer) -> list[dict[str, Any]]:
    """Every published re-ranker snapshot with its guard figures, newest first."""
    return service.rerankers_view(state.settings)


@router.get("/{version}/pr_curve.png", response_class=FileResponse)
def pr_curve(state: State, session: Viewer, version: str = VERSION) -> FileResponse:
    """The precision-recall curve of a model's test period."""
    return FileResponse(service.pr_curve(state.settings, version), media_type="image/png")


@router.post("/promote")
def promote(body: PromoteIn, request: Request, state: State, session: Lead) -> dict[str, Any]:
    """Make a model the champion; the running job follows within seconds."""
    return service.promote(
        state.engine, state.settings, actor_of(session, request), body.version, body.reason
    )


@router.post("/rollback")
def rollback(body: _Reason, request: Request, state: State, session: Lead) -> dict[str, Any]:
    """Return to the previous champion."""
    return service.roll_back(state.engine, state.settings, actor_of(session, request), body.reason)


@router.post("/rerankers/rollback")
def rollback_reranker(
    body: RerankerRollbackIn, request: Request, state: State, session: Lead
) -> dict[str, Any]:
    """Publish an earlier re-ranker snapshot again."""
    return service.roll_back_reranker(
        state.engine, state.settings, actor_of(session, request), body.to, body.reason
    )


@router.post("/freeze")
def freeze(body: _Reason, request: Request, state: State, session: Lead) -> dict[str, Any]:
    """Stop every automatic promotion and rollback; people can still act by hand."""
    return service.freeze(state.engine, state.settings, actor_of(session, request), body.reason)


@router.post("/unfreeze")
def unfreeze(body: UnfreezeIn, request: Request, state: State, session: Lead) -> dict[str, Any]:
    """Let the automatic lifecycle act again."""
    return service.unfreeze(state.engine, state.settings, actor_of(session, request), body.reason)
