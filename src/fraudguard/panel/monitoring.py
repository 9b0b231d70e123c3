"""The Monitoring page: throughput and outcomes, late and degraded decisions, exploration spend
against its caps, scores per hour with model changes marked, drift (PSI) of the score and the
champion's 20 most important features against its training reference, precision and recall on
labelled decisions per day, and the alerts an external pager can poll.

Everything but the quality per day is timed by when the job decided (what the system did
lately), not by the payments' event times, which a backlog or a replay puts in the past.

Alerts: a PSI over 0.2; a block or review rate in the last hour more than 3 times away from its
7-day baseline (either way); any degraded decision in the last hour.

The job's health comes from elsewhere: its metrics endpoint, read now, with the counts since the
job started (what ``fraudguard stack status`` shows).
"""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any

import numpy as np
import orjson
from sqlalchemy import Engine, case, func, select

from fraudguard.config import Settings
from fraudguard.errors import MetricsError
from fraudguard.features import FEATURE_NAMES
from fraudguard.models.registry import REFERENCE_FILE, ModelRegistry
from fraudguard.monitoring.drift import ALERT_PSI, psi
from fraudguard.ops.jobrunner import JobRunner
from fraudguard.panel import tables as t

HOUR_MS, DAY_MS = 3_600_000, 86_400_000
RATE_FACTOR = 3.0
MIN_ROWS = 200
"""Fewer decisions than this in a window say nothing about a rate or a distribution."""
DRIFT_SAMPLE = 20_000
SCORE_SAMPLE = 200_000
"""The newest decisions the score distribution per hour is drawn from."""
QUANTILES = {"p50": 0.5, "p90": 0.9, "p99": 0.99}
SCRAPE_TIMEOUT_S = 2.0
"""How long the panel waits for the job's metrics endpoint to accept and then to answer: an
endpoint that hangs costs the Job section this much, and the rest of the page nothing."""


def overview(
    engine: Engine, settings: Settings, hours: int = 24, now_ms: int | None = None
) -> dict[str, Any]:
    now_ms = now_ms or int(time.time() * 1000)
    since = now_ms - hours * HOUR_MS
    d = t.decisions.c
    # The hour of the decision, as its first millisecond: integer arithmetic on both databases.
    hour = d.decided_at_ms - d.decided_at_ms % HOUR_MS
    with engine.connect() as conn:
        per_hour = conn.execute(
            select(hour.label("h"), d.decision, d.model_version, func.count())
            .where(d.decided_at_ms >= since)
            .group_by("h", d.decision, d.model_version)
        ).all()
        recent = conn.execute(
            select(func.count()).where(d.decided_at_ms >= now_ms - 300_000)
        ).scalar_one()
        flags = conn.execute(
            select(
                func.sum(case((d.late.is_(True), 1), else_=0)),
                func.sum(case((d.degraded.is_(True), 1), else_=0)),
                func.count(),
            ).where(d.decided_at_ms >= since)
        ).one()
        window = settings.exploration.window_ms
        spend = conn.execute(
            select(func.count(), func.coalesce(func.sum(d.amount_eur), 0.0)).where(
                d.explored.is_(True), d.decided_at_ms >= now_ms - window
            )
        ).one()
        scored = conn.execute(
            select(hour.label("h"), d.score)
            .where(d.decided_at_ms >= since)
            .order_by(d.seq.desc())
            .limit(SCORE_SAMPLE)
        ).all()
    hours_seen: dict[int, dict[str, Any]] = {}
    for h, decision, model, n in per_hour:
        slot = hours_seen.setdefault(
            int(h), {"approve": 0, "review": 0, "block": 0, "models": set()}
        )
        slot[decision] += int(n)
        slot["models"].add(model)
    timeline = []
    previous: set[str] = set()
    for h in sorted(hours_seen):
        slot = hours_seen[h]
        models = sorted(slot.pop("models"))
        timeline.append(
            {
                "hour_ms": h,
                **slot,
                "models": models,
                "model_change": bool(previous) and set(models) != previous,
            }
        )
        previous = set(models)
    by_hour_scores: dict[int, list[float]] = {}
    for h, score in scored:
        by_hour_scores.setdefault(int(h) // HOUR_MS, []).append(float(score))
    for slot in timeline:
        scores = np.array(by_hour_scores.get(slot["hour_ms"] // HOUR_MS, []))
        slot["score_quantiles"] = (
            {q: round(float(np.quantile(scores, p)), 5) for q, p in QUANTILES.items()}
            if len(scores)
            else None
        )
    exploration = settings.exploration
    return {
        "hours": hours,
        "decisions_per_second": round(recent / 300, 2),
        "by_hour": timeline,
        "late": int(flags[0] or 0),
        "degraded": int(flags[1] or 0),
        "decisions": int(flags[2] or 0),
        "exploration": {
            "window_ms": window,
            "explored": int(spend[0]),
            "amount_eur": round(float(spend[1]), 2),
            "max_count": exploration.max_count_per_window,
            "max_amount_eur": exploration.max_amount_eur_per_window,
        },
    }


def drift(
    engine: Engine, settings: Settings, hours: int = 24, now_ms: int | None = None
) -> dict[str, Any]:
    """PSI of the newest decisions' scores and features against the champion's reference."""
    now_ms = now_ms or int(time.time() * 1000)
    registry = ModelRegistry.from_settings(settings)
    champion = registry.champion()
    if champion is None or not (champion.path / REFERENCE_FILE).exists():
        return {
            "model": champion.version if champion else None,
            "reference": False,
            "rows": 0,
            "score_psi": None,
            "features": [],
        }
    reference = orjson.loads((champion.path / REFERENCE_FILE).read_bytes())
    d = t.decisions.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(d.score, d.features)
            .where(d.decided_at_ms >= now_ms - hours * HOUR_MS, d.model_version == champion.version)
            .order_by(d.seq.desc())
            .limit(DRIFT_SAMPLE)
        ).all()
    scores = np.array([r[0] for r in rows], dtype=np.float64)
    packed = [r[1] for r in rows if r[1] is not None]
    matrix = (
        np.frombuffer(b"".join(packed), dtype="<f4").reshape(len(packed), len(FEATURE_NAMES))
        if packed
        else np.empty((0, len(FEATURE_NAMES)), dtype=np.float32)
    )
    index = {name: i for i, name in enumerate(FEATURE_NAMES)}
    features = []
    for name, bins in reference["features"].items():
        if name in index and len(matrix) >= MIN_ROWS:
            features.append({"feature": name, "psi": round(psi(bins, matrix[:, index[name]]), 4)})
    score_psi = round(psi(reference["score"], scores), 4) if len(scores) >= MIN_ROWS else None
    return {
        "model": champion.version,
        "reference": True,
        "rows": int(len(scores)),
        "score_psi": score_psi,
        "features": features,
    }


def quality(engine: Engine, days: int = 30, now_ms: int | None = None) -> list[dict[str, Any]]:
    """Precision and recall per day on the decisions whose newest label is known."""
    now_ms = now_ms or int(time.time() * 1000)
    since = (now_ms // DAY_MS - days + 1) * DAY_MS
    d, lab = t.decisions.c, t.labels.c
    newest = select(lab.txn_id, func.max(lab.seq).label("seq")).group_by(lab.txn_id).subquery()
    with engine.connect() as conn:
        rows = conn.execute(
            select(d.event_ms, d.decision, lab.label)
            .join(newest, newest.c.txn_id == d.txn_id)
            .join(t.labels, lab.seq == newest.c.seq)
            .where(d.event_ms >= since)
        ).all()
    out = []
    for day in range(days):
        start = since + day * DAY_MS
        of_day = [(dec, label) for ms, dec, label in rows if start <= ms < start + DAY_MS]
        fraud = sum(label == "fraud" for _, label in of_day)
        stopped = [label for dec, label in of_day if dec != "approve"]
        caught = sum(label == "fraud" for label in stopped)
        out.append(
            {
                "day_ms": start,
                "labelled": len(of_day),
                "fraud": fraud,
                "precision": round(caught / len(stopped), 4) if stopped else None,
                "recall": round(caught / fraud, 4) if fraud else None,
            }
        )
    return out


def alerts(engine: Engine, settings: Settings, now_ms: int | None = None) -> list[dict[str, Any]]:
    """What needs a person now, as JSON an external pager can poll."""
    now_ms = now_ms or int(time.time() * 1000)
    found: list[dict[str, Any]] = []
    measured = drift(engine, settings, hours=24, now_ms=now_ms)
    if measured["score_psi"] is not None and measured["score_psi"] > ALERT_PSI:
        found.append({"kind": "drift", "subject": "score", "psi": measured["score_psi"]})
    for feature in measured["features"]:
        if feature["psi"] > ALERT_PSI:
            found.append({"kind": "drift", "subject": feature["feature"], "psi": feature["psi"]})
    d = t.decisions.c
    hour_ago, week_ago = now_ms - HOUR_MS, now_ms - 7 * DAY_MS
    with engine.connect() as conn:

        def rates(start: int, end: int) -> tuple[int, dict[str, int]]:
            rows = conn.execute(
                select(d.decision, func.count())
                .where(d.decided_at_ms >= start, d.decided_at_ms < end)
                .group_by(d.decision)
            ).all()
            counts = {k: int(v) for k, v in rows}
            return sum(counts.values()), counts

        recent_n, recent = rates(hour_ago, now_ms + 1)
        base_n, base = rates(week_ago, hour_ago)
        degraded = conn.execute(
            select(func.count()).where(d.decided_at_ms >= hour_ago, d.degraded.is_(True))
        ).scalar_one()
    if recent_n >= MIN_ROWS and base_n >= MIN_ROWS:
        for decision in ("block", "review"):
            now_rate, base_rate = recent.get(decision, 0) / recent_n, base.get(decision, 0) / base_n
            if base_rate > 0 and not base_rate / RATE_FACTOR <= now_rate <= base_rate * RATE_FACTOR:
                found.append(
                    {
                        "kind": "rate",
                        "subject": decision,
                        "last_hour": round(now_rate, 5),
                        "baseline_7d": round(base_rate, 5),
                    }
                )
    if degraded:
        found.append({"kind": "degraded", "subject": "decisions", "last_hour": int(degraded)})
    return found


def job_health(settings: Settings, timeout_s: float = SCRAPE_TIMEOUT_S) -> dict[str, Any]:
    """The job ``settings`` name, from its metrics endpoint read now: decisions by outcome,
    degraded, late, explored, dead letters by reason, the model and threshold versions in force
    and the latency from event time, counted since the job started. When the endpoint does not
    answer, ``answers`` is false and ``reason`` says why in words, for the page to show."""
    runner = JobRunner(settings)
    name, url, running = settings.flink.job_name, runner.metrics_url(), runner.pid() is not None
    health: dict[str, Any] = {"job": name, "url": url, "running": running}
    try:
        summary = runner.metrics(timeout_s)
    except MetricsError as exc:
        if not running:
            reason = f"job {name} is not running on this machine"
            if url is None:
                reason += " (a job on a Flink cluster reports to the cluster's Prometheus instead)"
        elif url is None:
            reason = (
                f"job {name} runs without a metrics endpoint here: its reporter is off "
                "(metrics.enabled), or it runs on a Flink cluster, which reports to its own "
                "Prometheus"
            )
        else:  # refused, timed out, or the port was another process's when the job started
            reason = str(exc)
        return {**health, "answers": False, "reason": reason, "metrics": None}
    return {**health, "answers": True, "reason": None, "metrics": asdict(summary)}
