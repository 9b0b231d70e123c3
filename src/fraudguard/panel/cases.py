"""The review queue: every ``review`` decision is a case that analysts work to a verdict.

A case is opened when the ingester stores a review decision (same database transaction), with
a priority (expected loss by default: score times amount in euro) and an SLA clock from the
time the job decided. Analysts claim cases, or take the next one by priority; they confirm fraud,
mark it legitimate, or escalate it to a lead, whose verdict settles it. Every verdict that
closes a case becomes a label (:mod:`fraudguard.panel.labels`), and a lead can correct it later
with a new label that supersedes the old one. Every step is audited.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import ColumnElement, Connection, Engine, and_, func, select, update

from fraudguard.config import PanelSettings
from fraudguard.errors import FraudGuardError
from fraudguard.panel import tables as t
from fraudguard.panel.accounts import Forbidden, Session
from fraudguard.panel.audit import Actor, record
from fraudguard.panel.labels import queue_label
from fraudguard.panel.security import Role

Verdict = Literal["fraud", "legit"]
HOUR_MS = 3_600_000


class CaseNotFound(FraudGuardError):
    http_status = 404


class CaseConflict(FraudGuardError):
    """The case is not in a state that allows this step (someone else has it, it is closed)."""

    http_status = 409


@dataclass(frozen=True, slots=True)
class CasePolicy:
    """How cases are ordered and how long they may take (from :class:`PanelSettings`)."""

    priority: Literal["expected_loss", "score", "amount_eur"] = "expected_loss"
    sla_hours: float = 24.0

    @classmethod
    def of(cls, settings: PanelSettings) -> CasePolicy:
        return cls(settings.case_priority, settings.case_sla_hours)

    def priority_of(self, score: float, amount_eur: float) -> float:
        """
        >>> CasePolicy().priority_of(0.5, 300.0), CasePolicy("score").priority_of(0.5, 300.0)
        (150.0, 0.5)
        """
        if self.priority == "score":
            return score
        if self.priority == "amount_eur":
            return amount_eur
        return score * amount_eur


def case_row(decision: dict[str, Any], policy: CasePolicy, now_ms: int) -> dict[str, Any]:
    """The case a stored review decision opens."""
    opened = decision["decided_at_ms"] or now_ms
    return {
        "txn_id": decision["txn_id"],
        "card_id": decision["card_id"],
        "merchant_id": decision["merchant_id"],
        "terminal_id": decision["terminal_id"],
        "event_ms": decision["event_ms"],
        "opened_at_ms": opened,
        "sla_due_ms": opened + int(policy.sla_hours * HOUR_MS),
        "score": decision["score"],
        "amount_eur": decision["amount_eur"],
        "tier": decision["tier"],
        "mcc": decision["mcc"],
        "channel": decision["channel"],
        "country": decision["country"],
        "priority": policy.priority_of(decision["score"], decision["amount_eur"]),
        "status": "open",
        "assignee": None,
        "updated_at_ms": now_ms,
    }


@dataclass(frozen=True, slots=True)
class QueueFilter:
    status: Literal["open", "escalated", "closed", "active"] = "active"
    """``active``: open and escalated."""
    assignee: str | None = None
    """A user name, ``me`` (filled in by the route), or ``unassigned``."""
    tier: str | None = None
    mcc: str | None = None
    channel: str | None = None
    country: str | None = None
    older_than_h: float | None = None
    newer_than_h: float | None = None


def queue(
    engine: Engine, where: QueueFilter, limit: int = 50, offset: int = 0, now_ms: int | None = None
) -> tuple[int, list[dict[str, Any]]]:
    """Cases matching ``where``, highest priority first, and how many match in all."""
    now_ms = now_ms or int(time.time() * 1000)
    c = t.cases.c
    conditions: list[ColumnElement[bool]] = []
    if where.status == "active":
        conditions.append(c.status.in_(("open", "escalated")))
    else:
        conditions.append(c.status == where.status)
    if where.assignee == "unassigned":
        conditions.append(c.assignee.is_(None))
    elif where.assignee:
        conditions.append(c.assignee == where.assignee)
    for name in ("tier", "mcc", "channel", "country"):
        value = getattr(where, name)
        if value:
            conditions.append(getattr(c, name) == value)
    if where.older_than_h is not None:
        conditions.append(c.opened_at_ms <= now_ms - int(where.older_than_h * HOUR_MS))
    if where.newer_than_h is not None:
        conditions.append(c.opened_at_ms >= now_ms - int(where.newer_than_h * HOUR_MS))
    condition = and_(*conditions)
    with engine.connect() as conn:
        total = conn.execute(
            select(func.count()).select_from(t.cases).where(condition)
        ).scalar_one()
        rows = (
            conn.execute(
                select(t.cases)
                .where(condition)
                .order_by(c.priority.desc(), c.id)
                .limit(limit)
                .offset(offset)
            )
            .mappings()
            .all()
        )
    return int(total), [dict(r) for r in rows]


def get_case(conn: Connection, case_id: int) -> dict[str, Any]:
    row = conn.execute(select(t.cases).where(t.cases.c.id == case_id)).mappings().first()
    if row is None:
        raise CaseNotFound(f"no case {case_id}")
    return dict(row)


def claim(engine: Engine, session: Session, actor: Actor, case_id: int) -> dict[str, Any]:
    """Take a case; a case someone else holds is refused unless you are a lead."""
    with engine.begin() as conn:
        case = get_case(conn, case_id)
        _takeable(case, session)
        _set(conn, case_id, assignee=session.user.name)
        record(
            conn,
            actor,
            "case.claim",
            f"case {case_id}",
            before={"assignee": case["assignee"]},
            after={"assignee": session.user.name},
        )
        return get_case(conn, case_id)


def take_next(engine: Engine, session: Session, actor: Actor) -> dict[str, Any] | None:
    """Assign the caller the highest-priority open case nobody holds (None when there is none)."""
    c = t.cases.c
    with engine.begin() as conn:
        for _ in range(5):  # another analyst may take the same case between the two statements
            found = conn.execute(
                select(c.id)
                .where(c.status == "open", c.assignee.is_(None))
                .order_by(c.priority.desc(), c.id)
                .limit(1)
            ).scalar()
            if found is None:
                return None
            taken = conn.execute(
                update(t.cases)
                .where(c.id == found, c.assignee.is_(None))
                .values(assignee=session.user.name, updated_at_ms=_now())
            ).rowcount
            if taken:
                record(
                    conn,
                    actor,
                    "case.claim",
                    f"case {found}",
                    after={"assignee": session.user.name},
                )
                return get_case(conn, found)
    return None


def release(engine: Engine, session: Session, actor: Actor, case_id: int) -> dict[str, Any]:
    with engine.begin() as conn:
        case = get_case(conn, case_id)
        _takeable(case, session)
        _set(conn, case_id, assignee=None)
        record(
            conn, actor, "case.release", f"case {case_id}", before={"assignee": case["assignee"]}
        )
        return get_case(conn, case_id)


def decide(
    engine: Engine,
    settings: PanelSettings,
    session: Session,
    actor: Actor,
    case_id: int,
    verdict: Literal["fraud", "legit", "escalate"],
    note: str = "",
    lean: Verdict | None = None,
) -> dict[str, Any]:
    """Give a verdict. On an open case: fraud or legit closes it with a label; escalate hands it
    to the leads, with the verdict the analyst leans to (``lean``) if any. On an escalated case
    only a lead decides, and that settles it. Repeating the verdict that closed a case (a
    retried click) changes nothing and sends no second label."""
    user = session.user
    with engine.begin() as conn:
        case = get_case(conn, case_id)
        if case["status"] == "closed":
            if verdict == case["final_verdict"]:
                return case
            raise CaseConflict(
                f"case {case_id} is closed as {case['final_verdict']}; "
                "a lead corrects it with a new label"
            )
        if case["status"] == "escalated" and not user.role.allows(Role.LEAD):
            raise Forbidden("an escalated case is settled by a lead")
        if case["status"] == "open":
            _takeable(case, session)
        before = {k: case[k] for k in ("status", "assignee", "first_verdict", "final_verdict")}
        if verdict == "escalate":
            if case["status"] == "escalated":
                return case  # a retried click
            _move(
                conn,
                case,
                status="escalated",
                assignee=None,
                first_by=user.name,
                first_verdict=lean,
            )
        else:
            first = (
                {}
                if case["status"] == "escalated"
                else {"first_verdict": verdict, "first_by": user.name}
            )
            label_id = queue_label(conn, settings, case, verdict, user.name, case["priority"])
            _move(
                conn,
                case,
                status="closed",
                final_verdict=verdict,
                final_by=user.name,
                closed_at_ms=_now(),
                assignee=case["assignee"] or user.name,
                label_id=label_id,
                **first,
            )
        after_case = get_case(conn, case_id)
        after = {k: after_case[k] for k in before} | ({"note": note} if note else {})
        record(conn, actor, f"case.{verdict}", f"case {case_id}", before=before, after=after)
        return after_case


def correct(
    engine: Engine,
    settings: PanelSettings,
    session: Session,
    actor: Actor,
    case_id: int,
    verdict: Verdict,
    reason: str,
) -> dict[str, Any]:
    """A lead corrects a closed case: a new label that supersedes the case's last one."""
    if not session.user.role.allows(Role.LEAD):
        raise Forbidden("a lead corrects a verdict")
    with engine.begin() as conn:
        case = get_case(conn, case_id)
        if case["status"] != "closed":
            raise CaseConflict(f"case {case_id} is {case['status']}: give a verdict instead")
        if case["final_verdict"] == verdict:
            return case
        label_id = queue_label(
            conn,
            settings,
            case,
            verdict,
            session.user.name,
            case["priority"],
            supersedes=case["label_id"],
            reason=reason,
        )
        _move(conn, case, final_verdict=verdict, final_by=session.user.name, label_id=label_id)
        record(
            conn,
            actor,
            "case.correct",
            f"case {case_id}",
            before={"final_verdict": case["final_verdict"], "label_id": case["label_id"]},
            after={"final_verdict": verdict, "label_id": label_id, "reason": reason},
        )
        return get_case(conn, case_id)


def _takeable(case: dict[str, Any], session: Session) -> None:
    holder = case["assignee"]
    if holder not in (None, session.user.name) and not session.user.role.allows(Role.LEAD):
        raise CaseConflict(f"case {case['id']} is {holder}'s")


def _set(conn: Connection, case_id: int, **values: Any) -> None:
    conn.execute(
        update(t.cases).where(t.cases.c.id == case_id).values(updated_at_ms=_now(), **values)
    )


def _move(conn: Connection, case: dict[str, Any], **values: Any) -> None:
    """Change ``case`` only if nobody changed its state since it was read: two requests for
    the same case at once (a double click, two analysts) each read it open, and without this
    both would close it and queue a label. The loser's transaction, label included, is
    rolled back. (On PostgreSQL the second UPDATE waits for the first to commit, then finds the
    state changed; on SQLite the second writer is refused.)"""
    c = t.cases.c
    moved = conn.execute(
        update(t.cases)
        .where(
            c.id == case["id"],
            c.status == case["status"],
            c.final_verdict.is_(None)
            if case["final_verdict"] is None
            else c.final_verdict == case["final_verdict"],
        )
        .values(updated_at_ms=_now(), **values)
    ).rowcount
    if not moved:
        raise CaseConflict(f"case {case['id']} changed meanwhile; reload it")


def _now() -> int:
    return int(time.time() * 1000)
