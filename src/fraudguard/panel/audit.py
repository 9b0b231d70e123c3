"""The audit log: every write in the panel, append-only.

No code path updates or deletes an audit row, and the database refuses to (triggers installed
with the schema, see :mod:`fraudguard.panel.tables`).

>>> from fraudguard.panel.db import open_database
>>> engine = open_database("sqlite://")
>>> with engine.begin() as conn:
...     record(conn, Actor("ana", "lead", "127.0.0.1"), "draft.create", "draft 1",
...            after={"version": "v2"}, at_ms=5)
>>> [(row["actor"], row["action"], row["after"]) for row in entries(engine)]
[('ana', 'draft.create', {'version': 'v2'})]
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterable
from typing import Any, NamedTuple

import orjson
from sqlalchemy import Connection, Engine, insert, select

from fraudguard.panel import tables as t


class Actor(NamedTuple):
    """Who did it: a user (or ``anonymous`` before login), their role, and from where."""

    name: str
    role: str
    client: str = ""


def record(
    conn: Connection,
    actor: Actor,
    action: str,
    target: str = "",
    before: Any = None,
    after: Any = None,
    at_ms: int | None = None,
) -> None:
    """Append one row in the caller's transaction: the change and its audit row commit together."""
    conn.execute(
        insert(t.audit).values(
            at_ms=at_ms if at_ms is not None else int(time.time() * 1000),
            actor=actor.name[:64], role=actor.role, action=action, target=target[:255],
            before=None if before is None else orjson.dumps(before).decode(),
            after=None if after is None else orjson.dumps(after).decode(),
            client=actor.client[:64],
        )
    )  # fmt: skip


def entries(
    engine: Engine,
    actor: str | None = None,
    action: str | None = None,
    from_ms: int | None = None,
    to_ms: int | None = None,
    limit: int = 500,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Rows newest first, filtered by actor, action prefix and time."""
    a = t.audit.c
    query = select(t.audit).order_by(a.id.desc()).limit(limit).offset(offset)
    if actor:
        query = query.where(a.actor == actor)
    if action:
        query = query.where(a.action.startswith(action))
    if from_ms is not None:
        query = query.where(a.at_ms >= from_ms)
    if to_ms is not None:
        query = query.where(a.at_ms < to_ms)
    with engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    return [{**row, "before": _json(row["before"]), "after": _json(row["after"])} for row in rows]


def to_csv(rows: Iterable[dict[str, Any]]) -> str:
    """Audit rows as CSV, before and after as JSON text."""
    out = io.StringIO()
    fields = ["id", "at_ms", "actor", "role", "action", "target", "before", "after", "client"]
    writer = csv.DictWriter(out, fieldnames=fields, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({**row, "before": _text(row["before"]), "after": _text(row["after"])})
    return out.getvalue()


def _json(text: str | None) -> Any:
    return None if text is None else orjson.loads(text)


def _text(value: Any) -> str:
    return "" if value is None else orjson.dumps(value).decode()
