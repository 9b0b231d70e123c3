"""Monitoring, alerts for a pager, and the review team's analytics."""

from __future__ import annotations

import time
from typing import Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse

from fraudguard.panel import analytics as review
from fraudguard.panel import charts
from fraudguard.panel import monitoring as service
from fraudguard.panel.deps import State, Viewer

router = APIRouter(prefix="/api/monitoring", tags=["monitoring"])


@router.get("")
def overview(
    state: State, session: Viewer, hours: int = Query(default=24, ge=1, le=24 * 30)
) -> dict[str, Any]:
    """Throughput, outcomes per hour (also as an SVG chart), late and degraded, exploration
    spend, drift, quality."""
    now_ms = int(time.time() * 1000)
    seen = service.overview(state.engine, state.settings, hours, now_ms)
    # The window starts inside an hour: its first bar is that hour's part of it.
    first_hour_ms = (now_ms - hours * service.HOUR_MS) // service.HOUR_MS * service.HOUR_MS
    chart = charts.outcomes_chart(
        seen["by_hour"], first_hour_ms, hours + 1, f"Decisions per hour, last {hours} h (UTC)"
    )
    scores = charts.score_chart(
        seen["by_hour"], first_hour_ms, hours + 1, f"Scores per hour, last {hours} h (UTC)"
    )
    return {
        **seen,
        "chart": chart,
        "score_chart": scores,
        "drift": service.drift(state.engine, state.settings, hours, now_ms),
        "quality": service.quality(state.engine, now_ms=now_ms),
    }


@router.get("/alerts")
def alerts(state: State, session: Viewer) -> list[dict[str, Any]]:
    """What needs a person now: drift, rates off their baseline, degraded decisions."""
    return service.alerts(state.engine, state.settings)


@router.get("/job")
def job(state: State, session: Viewer) -> dict[str, Any]:
    """The running job's health from its metrics endpoint (counts since it started), or why the
    endpoint does not answer."""
    return service.job_health(state.settings)


@router.get("/reviews")
def reviews(
    state: State, session: Viewer, days: int = Query(default=30, ge=1, le=365)
) -> dict[str, Any]:
    """Cases per day (also as an SVG chart), time to close, analyst-lead agreement, false
    positives per tier and segment."""
    analytics = review.review_analytics(state.engine, days)
    chart = charts.bar_chart(
        {"opened": analytics["opened"], "closed": analytics["closed"]},
        [day[5:] for day in analytics["days"]],
        f"Cases opened and closed per day, last {days} days (UTC)",
    )
    return {**analytics, "chart": chart}


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
