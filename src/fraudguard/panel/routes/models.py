"""The model registry, the champion, the re-ranker snapshots; leads and admins promote and roll
back, with a reason."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field

from fraudguard.panel import models as service
from fraudguard.panel.deps import Lead, State, Viewer, actor_of

router = APIRouter(prefix="/api/models", tags=["models"])
VERSION = Path(max_length=128, pattern=r"^[A-Za-z0-9._-]+$")


class _Reason(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    reason: str = Field(min_length=1, max_length=2_000)


class PromoteIn(_Reason):
    version: str = Field(min_length=1, max_length=128)


class RerankerRollbackIn(_Reason):
    to: str | None = Field(default=None, max_length=128)


@router.get("")
def registry(state: State, session: Viewer) -> dict[str, Any]:
    """Every model, the champion and its history."""
    return service.registry_view(state.settings)


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
