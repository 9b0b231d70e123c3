"""Threshold tiers in the panel: what is in force, drafts, the what-if, and publishing with four
eyes.

A lead writes a draft (the YAML of a thresholds file, checked by the same loader as the CLI) and
proposes it with a reason; a *different* lead or an admin approves it, and approval publishes
through :func:`fraudguard.control.changes.publish_tiers`, the CLI's own path. A rollback is a
proposal to publish an earlier version again, approved the same way. Every step is audited.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import yaml
from sqlalchemy import Engine, func, insert, select, update

from fraudguard.config import Settings
from fraudguard.control import changes
from fraudguard.decision import BUILTIN_TIERS, ThresholdTiers, tiers_from_yaml
from fraudguard.decision.whatif import (
    DAY_MS,
    FRAUD,
    ScoredColumns,
    compare,
    outcome,
    outcomes_by_group,
)
from fraudguard.errors import ConfigError, FraudGuardError
from fraudguard.panel import charts
from fraudguard.panel import tables as t
from fraudguard.panel.accounts import Forbidden, User, now_ms
from fraudguard.panel.audit import Actor, record
from fraudguard.panel.columns import DecisionColumns
from fraudguard.panel.security import Role

MAX_LISTED = 50
"""Transactions listed per kind of change (new and lost positives)."""
CANNOT_PREDICT = (
    "Blocked payments never get a label, so the fraud among them is unknown: precision and "
    "recall here are measured on the labelled payments only, which the tiers in force chose. "
    "A stricter draft is judged on payments the old tiers let through; a looser one would let "
    "through payments whose outcome nobody saw. The exploration sample (a random, capped "
    "release of would-be reviews and blocks, weighted by 1/propensity) is the only unbiased "
    "view of them; its figures are shown beside the biased ones, and are few."
)


class DraftNotFound(FraudGuardError):
    http_status = 404


class DraftConflict(FraudGuardError):
    """The draft is not in a state that allows this step."""

    http_status = 409


@dataclass(frozen=True, slots=True)
class InForce:
    tiers: ThresholdTiers
    history: list[dict[str, Any]]


def in_force(settings: Settings) -> InForce:
    """The newest tiers published on the control topic (the built-in ones before any), with
    every publication oldest first."""
    published = changes.published_tiers(settings)
    history = [
        {
            "offset": offset,
            "version": c.tiers.version,
            "issued_at_ms": c.issued_at_ms,
            "tiers": c.tiers.to_dict(),
        }
        for offset, c in published
    ]
    tiers = published[-1][1].tiers if published else BUILTIN_TIERS
    return InForce(tiers, history)


def parse_draft(text: str) -> ThresholdTiers:
    """The tiers of a draft's YAML; a ``ConfigError`` names the bad field."""
    return tiers_from_yaml(text, source="draft")


def _row(engine: Engine, draft_id: int) -> dict[str, Any]:
    with engine.connect() as conn:
        row = conn.execute(select(t.threshold_drafts).where(t.threshold_drafts.c.id == draft_id))
        found = row.mappings().first()
    if found is None:
        raise DraftNotFound(f"no draft {draft_id}")
    return dict(found)


def list_drafts(engine: Engine, limit: int = 100) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = (
            conn.execute(
                select(t.threshold_drafts).order_by(t.threshold_drafts.c.id.desc()).limit(limit)
            )
            .mappings()
            .all()
        )
    return [dict(r) for r in rows]


def get_draft(engine: Engine, draft_id: int) -> dict[str, Any]:
    return _row(engine, draft_id)


def save_draft(
    engine: Engine, actor: Actor, text: str, draft_id: int | None = None
) -> dict[str, Any]:
    """Create or edit a draft; the YAML must load."""
    tiers = parse_draft(text)
    at = now_ms()
    with engine.begin() as conn:
        if draft_id is None:
            result = conn.execute(
                insert(t.threshold_drafts).values(
                    version=tiers.version,
                    yaml=text,
                    author=actor.name,
                    status="draft",
                    reason="",
                    created_at_ms=at,
                    updated_at_ms=at,
                )
            )
            key = result.inserted_primary_key
            assert key is not None  # an INSERT into a table with an integer primary key
            draft_id = int(key[0])
            record(
                conn,
                actor,
                "draft.create",
                f"draft {draft_id}",
                after={"version": tiers.version, "yaml": text},
            )
        else:
            before = _row(engine, draft_id)
            if before["status"] != "draft":
                raise DraftConflict(f"draft {draft_id} is {before['status']}: make a new one")
            conn.execute(
                update(t.threshold_drafts)
                .where(t.threshold_drafts.c.id == draft_id)
                .values(version=tiers.version, yaml=text, updated_at_ms=at)
            )
            record(
                conn,
                actor,
                "draft.edit",
                f"draft {draft_id}",
                before={"version": before["version"], "yaml": before["yaml"]},
                after={"version": tiers.version, "yaml": text},
            )
    return _row(engine, draft_id)


def propose(engine: Engine, actor: Actor, draft_id: int, reason: str) -> dict[str, Any]:
    """Ask for approval; only a lead or an admin proposes."""
    row = _row(engine, draft_id)
    if row["status"] != "draft":
        raise DraftConflict(f"draft {draft_id} is {row['status']}, not a draft")
    if not reason.strip():
        raise ConfigError("a proposal needs a reason")
    with engine.begin() as conn:
        conn.execute(
            update(t.threshold_drafts)
            .where(t.threshold_drafts.c.id == draft_id)
            .values(
                status="proposed", reason=reason, proposed_by=actor.name, proposed_at_ms=now_ms()
            )
        )
        record(
            conn,
            actor,
            "draft.propose",
            f"draft {draft_id}",
            before={"status": "draft"},
            after={"status": "proposed", "version": row["version"], "reason": reason},
        )
    return _row(engine, draft_id)


def propose_rollback(
    engine: Engine, settings: Settings, actor: Actor, version: str, reason: str
) -> dict[str, Any]:
    """A proposal to publish an earlier version again."""
    published = {h["version"]: h for h in in_force(settings).history}
    if version not in published:
        raise ConfigError(f"thresholds version {version!r} was never published")
    text = yaml.safe_dump(published[version]["tiers"], sort_keys=False, allow_unicode=True)
    draft = save_draft(engine, actor, text)
    with engine.begin() as conn:
        conn.execute(
            update(t.threshold_drafts)
            .where(t.threshold_drafts.c.id == draft["id"])
            .values(rollback_to=version)
        )
    return propose(engine, actor, draft["id"], reason)


def approve(
    engine: Engine, settings: Settings, user: User, actor: Actor, draft_id: int, note: str = ""
) -> dict[str, Any]:
    """Publish a proposal: another lead, or an admin, than the one who proposed it."""
    row = _row(engine, draft_id)
    if row["status"] != "proposed":
        raise DraftConflict(f"draft {draft_id} is {row['status']}, not proposed")
    if row["proposed_by"] == user.name or row["author"] == user.name and user.role != Role.ADMIN:
        raise Forbidden("four eyes: a change is approved by someone other than its author")
    tiers = parse_draft(row["yaml"])
    published = changes.publish_tiers(settings, tiers)
    with engine.begin() as conn:
        conn.execute(
            update(t.threshold_drafts)
            .where(t.threshold_drafts.c.id == draft_id)
            .values(
                status="published",
                decided_by=user.name,
                decided_at_ms=now_ms(),
                decision_note=note,
                published_offset=published.offset,
            )
        )
        action = "thresholds.rollback" if row["rollback_to"] else "thresholds.publish"
        record(
            conn,
            actor,
            action,
            f"draft {draft_id}",
            before={"status": "proposed"},
            after={
                "status": "published",
                "version": tiers.version,
                "offset": published.offset,
                "again": published.again,
                "note": note,
            },
        )
    return _row(engine, draft_id)


def reject(engine: Engine, actor: Actor, draft_id: int, note: str) -> dict[str, Any]:
    row = _row(engine, draft_id)
    if row["status"] != "proposed":
        raise DraftConflict(f"draft {draft_id} is {row['status']}, not proposed")
    with engine.begin() as conn:
        conn.execute(
            update(t.threshold_drafts)
            .where(t.threshold_drafts.c.id == draft_id)
            .values(
                status="rejected", decided_by=actor.name, decided_at_ms=now_ms(), decision_note=note
            )
        )
        record(
            conn,
            actor,
            "draft.reject",
            f"draft {draft_id}",
            before={"status": "proposed"},
            after={"status": "rejected", "note": note},
        )
    return _row(engine, draft_id)


def first_decision_with(engine: Engine, version: str) -> int | None:
    """When the job's decisions first carried threshold ``version`` (decided_at_ms), or None."""
    d = t.decisions.c
    with engine.connect() as conn:
        found = conn.execute(
            select(func.min(d.decided_at_ms)).where(d.threshold_version == version)
        ).scalar()
    return None if found is None else int(found)


def what_if_report(
    columns: DecisionColumns,
    engine: Engine,
    settings: Settings,
    draft: ThresholdTiers,
    current: ThresholdTiers,
    days: int | None = None,
    to_ms: int | None = None,
) -> dict[str, Any]:
    """The draft against the tiers in force over the stored decisions of the last ``days``."""
    started = time.perf_counter()
    days = days or settings.panel.whatif_days
    to_ms = to_ms if to_ms is not None else (now_ms() // DAY_MS + 1) * DAY_MS
    from_ms = to_ms - days * DAY_MS
    columns.refresh()
    rows, seqs = columns.window(from_ms, to_ms)
    result = compare(rows, draft, current)
    now, new = result.decided["current"], result.decided["candidate"]
    minutes = settings.panel.review_minutes_per_case
    daily = {}
    assert rows.event_ms is not None  # the store's columns always carry event times
    day = ((rows.event_ms - from_ms) // DAY_MS).clip(0, days - 1)
    for name, decided in (("current", now), ("draft", new)):
        alerts = np.bincount(day[decided[0] > 0], minlength=days)
        reviews = np.bincount(day[decided[0] == 1], minlength=days)
        daily[name] = {
            "alerts": alerts.tolist(),
            "reviews": reviews.tolist(),
            "review_hours": [round(r * minutes / 60, 1) for r in reviews.tolist()],
        }
    labels = [
        time.strftime("%m-%d", time.gmtime((from_ms + i * DAY_MS) / 1000)) for i in range(days)
    ]
    segments = _segments(rows, draft, current, now, new)
    explored = rows.explored if rows.explored is not None else np.zeros(len(rows), dtype=bool)
    sample = rows.take(explored)  # few rows: every column
    weights = 1.0 / np.clip(sample.propensity, 1e-6, 1.0)  # type: ignore[arg-type]
    counts, _ = np.histogram(np.nan_to_num(rows.score, nan=0.5), bins=50, range=(0.0, 1.0))
    report = {
        "period": {"from_ms": from_ms, "to_ms": to_ms, "days": days, "day_labels": labels},
        "current_version": current.version,
        "draft_version": draft.version,
        **result.to_dict(),
        "daily": daily,
        "review_minutes_per_case": minutes,
        "segments": segments,
        "exploration": {
            "rows": int(len(sample)),
            "labelled": int((sample.label >= 0).sum()),
            "fraud": int((sample.label == FRAUD).sum()),
            "current": outcome(sample, current, weights=weights).to_dict(),
            "draft": outcome(sample, draft, weights=weights).to_dict(),
        },
        "new_positive_txns": _transactions(engine, seqs[result.new_positives[:MAX_LISTED]]),
        "lost_positive_txns": _transactions(engine, seqs[result.lost_positives[:MAX_LISTED]]),
        "charts": {
            "histogram": charts.histogram(
                counts.tolist(),
                {
                    f"in force ({current.version})": [current.review, current.block],
                    f"draft ({draft.version})": [draft.review, draft.block],
                },
                "Scores of the period (log scale) with the default tier's thresholds",
            ),
            "alerts_per_day": charts.bar_chart(
                {"in force": daily["current"]["alerts"], "draft": daily["draft"]["alerts"]},
                labels,
                "Alerts per day (reviews and blocks)",
            ),
        },
        "cannot_predict": CANNOT_PREDICT,
    }
    report["elapsed_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return report


def _segments(rows: ScoredColumns, draft: ThresholdTiers, current: ThresholdTiers,
              now: tuple[np.ndarray, np.ndarray], new: tuple[np.ndarray, np.ndarray]
              ) -> list[dict[str, Any]]:  # fmt: skip
    """Per tier of the draft (the segments it defines): both tiers' tallies on its rows."""
    names = draft.tier_names()
    group = new[1].astype(np.int64)
    sizes = np.bincount(group, minlength=len(names))
    before = outcomes_by_group(rows, current, now, group, len(names))
    after = outcomes_by_group(rows, draft, new, group, len(names))
    return [
        {"segment": name, "rows": int(sizes[i]), "current": before[i].to_dict(),
         "draft": after[i].to_dict()}
        for i, name in enumerate(names) if sizes[i]
    ]  # fmt: skip


def _transactions(engine: Engine, seqs: np.ndarray) -> list[dict[str, Any]]:
    if not len(seqs):
        return []
    d = t.decisions.c
    with engine.connect() as conn:
        rows = (
            conn.execute(
                select(
                    d.txn_id,
                    d.event_ms,
                    d.amount,
                    d.currency,
                    d.amount_eur,
                    d.mcc,
                    d.channel,
                    d.country,
                    d.score,
                    d.decision,
                    d.tier,
                )
                .where(d.seq.in_([int(s) for s in seqs]))
                .order_by(d.score.desc())
            )
            .mappings()
            .all()
        )
    return [dict(r) for r in rows]
