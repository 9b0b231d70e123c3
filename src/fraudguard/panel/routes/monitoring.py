"""Monitoring, alerts for a pager, and the review team's analytics."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse

from fraudguard.panel import analytics as review
from fraudguard.panel import monitoring as service
from fraudguard.panel.deps import State, Viewer

router = APIRouter(prefix="/api/monitoring", tags=["monitoring"])


@router.get("")
def overview(
    state: State, session: Viewer, hours: int = Query(default=24, ge=1, le=24 * 30)
) -> dict[str, Any]:
    """Throughput, outcomes per hour, late and degraded, exploration spend, drift, quality."""
    return {
        **service.overview(state.engine, state.settings, hours),
        "drift": service.drift(state.engine, state.settings, hours),
        "quality": service.quality(state.engine),
    }


@router.get("/alerts")
def alerts(state: State, session: Viewer) -> list[dict[str, Any]]:
    """What needs a person now: drift, rates off their baseline, degraded decisions."""
    return service.alerts(state.engine, state.settings)


@router.get("/reviews")
def reviews(
    state: State, session: Viewer, days: int = Query(default=30, ge=1, le=365)
) -> dict[str, Any]:
    """Cases per day, time to close, analyst-lead agreement, false positives per tier."""
    return review.review_analytics(state.engine, days)


@router.get("/reviews.csv", response_class=PlainTextResponse)
def reviews_csv(
    state: State,
    session: Viewer,
    part: Literal["daily", "tier", "segment"] = "daily",
    days: int = Query(default=30, ge=1, le=365),
) -> PlainTextResponse:
    """One part of the review analytics as CSV."""
    text = review.to_csv(review.review_analytics(state.engine, days), part)
    return PlainTextResponse(
        text,
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="reviews-{part}.csv"'},
    )
