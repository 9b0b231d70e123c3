"""The decision store on the real PostgreSQL of the local stack: idempotent writes counted
right, offsets with the rows, the append-only audit log, and the same what-if columns and labels
per day as on SQLite."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.exc import DatabaseError

from fraudguard.panel import tables as t
from fraudguard.panel.audit import Actor, record
from fraudguard.panel.columns import DecisionColumns
from fraudguard.panel.db import grow_schema, open_database
from fraudguard.panel.loop import labels_per_day
from fraudguard.panel.store import Batch, DecisionStore, Position
from fraudguard.wire.transactions import format_event_time

pytestmark = pytest.mark.integration

START_MS = 1_795_428_000_000


def decision_record(n: int) -> bytes:
    return orjson.dumps({
        "txn_id": f"t{n}", "card_id": "c1", "event_time": format_event_time(START_MS + n),
        "decision": "block" if n % 3 == 0 else "approve", "score": 0.5 + n / 100,
        "model_version": "m1", "threshold_version": "v1", "decided_at_ms": START_MS + n,
        "features": {"txn_amount_eur": 10.0 + n}, "currency": "EUR", "amount": 10.0 + n,
        "mcc": "5411", "channel": "online", "country": "DE", "explored": n == 2,
        "propensity": 0.25 if n == 2 else 1.0,
    })  # fmt: skip


def decisions(*numbers: int) -> list[Position]:
    """Decision records of transactions ``t<n>``, at offset ``n`` of partition 0."""
    return [Position("decisions", 0, n, decision_record(n)) for n in numbers]


def labels(first_offset: int, **by_txn: str) -> list[Position]:
    """Label records ``txn_id=label`` from ``first_offset`` on, in argument order."""
    reported = "2026-11-30T00:00:00Z"
    return [
        Position("labels", 0, first_offset + i,
                 orjson.dumps({"txn_id": txn_id, "label": value, "reported_at": reported}))
        for i, (txn_id, value) in enumerate(by_txn.items())
    ]  # fmt: skip


def test_a_batch_is_stored_once_and_counted_right(postgres_engine: Engine) -> None:
    store = DecisionStore(postgres_engine)
    broken = Position("decisions", 0, 9, b"{oops")
    batch = Batch(decisions=[*decisions(0, 1, 2, 3), *decisions(1), broken],
                  labels=labels(0, t1="fraud"),
                  next_offsets={("decisions", 0): 10, ("labels", 0): 1})  # fmt: skip
    first = store.write(batch)
    again = store.write(batch)  # a restarted ingester reading the batch again
    assert (first.stored_decisions, first.stored_labels, first.rejected) == (4, 1, 1)
    assert (again.stored_decisions, again.stored_labels, again.rejected) == (0, 0, 0)
    assert store.write(Batch(decisions=decisions(3, 4, 5))).stored_decisions == 2
    assert store.counts() == {"decisions": 6, "labels": 1, "rejects": 1}
    assert store.offsets() == {("decisions", 0): 10, ("labels", 0): 1}
    store.write(Batch(next_offsets={("decisions", 0): 12}))
    assert store.offsets() == {("decisions", 0): 12, ("labels", 0): 1}


def test_the_database_refuses_to_change_or_delete_an_audit_row(postgres_engine: Engine) -> None:
    with postgres_engine.begin() as conn:
        record(conn, Actor("lea", "lead"), "draft.create", "draft 1", after={"v": 1})
    for statement in ("UPDATE audit SET actor = 'eve'", "DELETE FROM audit"):
        with pytest.raises(DatabaseError, match="append-only"), postgres_engine.begin() as conn:
            conn.execute(text(statement))
    with postgres_engine.connect() as conn:
        assert conn.execute(select(t.audit.c.actor)).scalars().all() == ["lea"]


def snapshot(columns: DecisionColumns) -> dict[str, list[Any]]:
    rows, seqs = columns.window(0, 2**62)
    return {"seq": seqs.tolist(), **{name: v.tolist() for name, v in vars(rows).items()}}


def test_the_what_if_columns_are_the_same_as_on_sqlite(
    postgres_engine: Engine, tmp_path: Path
) -> None:
    engines = [postgres_engine, open_database(f"sqlite:///{tmp_path / 'panel.db'}")]
    stores = [DecisionStore(engine) for engine in engines]
    views = [DecisionColumns(engine) for engine in engines]
    steps = [
        Batch(labels=labels(0, t2="fraud")),  # a label stored before its decision
        Batch(decisions=decisions(0, 1, 2, 3)),
        Batch(decisions=decisions(4), labels=labels(1, t0="legit", t2="legit")),  # a correction
    ]
    for step in steps:
        for store, view in zip(stores, views, strict=True):
            store.write(step)
            view.refresh()
        postgres, sqlite = (snapshot(view) for view in views)
        assert postgres == sqlite
    assert postgres["label"] == [0, -1, 0, -1, -1] and postgres["explored"][2] is True
    assert [store.purge(START_MS + 2) for store in stores] == [2, 2]  # retention
    for view in views:
        view.refresh()
    assert snapshot(views[0]) == snapshot(views[1]) and len(views[0]) == 3
    engines[1].dispose()


def test_labels_per_day_are_the_same_as_on_sqlite(postgres_engine: Engine, tmp_path: Path) -> None:
    day_ms = 86_400_000
    batch = Batch(labels=[
        Position("labels", 0, i, orjson.dumps({
            "txn_id": f"t{i}", "label": "legit" if i % 3 else "fraud",
            "reported_at": format_event_time(START_MS + i * 7 * 3_600_000),
            "source": ("chargeback", "review", "")[i % 3]}))
        for i in range(30)  # one label every 7 hours, over 8.75 days
    ])  # fmt: skip
    engines = [postgres_engine, open_database(f"sqlite:///{tmp_path / 'panel.db'}")]
    views = []
    for engine in engines:
        DecisionStore(engine).write(batch)
        views.append(labels_per_day(engine, days=5, now_ms=START_MS + 8 * day_ms))
    assert views[0] == views[1]
    in_window = [i for i in range(30) if START_MS + i * 7 * 3_600_000 >= views[0]["from_ms"]]
    counted = sum(n for c in views[0]["totals"].values() for n in c.values())
    assert counted == len(in_window) > 0 and views[0]["sources"] == ["", "chargeback", "review"]
    engines[1].dispose()


def test_a_session_database_is_empty_and_takes_the_schema(postgres_url: str) -> None:
    engine = open_database(postgres_url)
    try:
        assert DecisionStore(engine).counts() == {"decisions": 0, "labels": 0, "rejects": 0}
    finally:
        engine.dispose()


def test_an_older_database_grows_the_challenger_columns_and_keeps_its_rows(
    postgres_database_url: str,
) -> None:
    engine = open_database(postgres_database_url)
    DecisionStore(engine).write(Batch(decisions=decisions(0, 1)))
    with engine.begin() as conn:  # the decisions table as it was before challenger scores
        conn.execute(text("DROP INDEX decisions_challenger"))
        conn.execute(text("DROP INDEX labels_reported"))
        conn.execute(text("ALTER TABLE decisions DROP COLUMN challenger_version, "
                          "DROP COLUMN challenger_score"))  # fmt: skip
    engine.dispose()
    engine = open_database(postgres_database_url)
    try:
        with engine.begin() as conn:
            assert grow_schema(conn) == []  # open_database added them already
            assert "labels_reported" in {i["name"] for i in inspect(conn).get_indexes("labels")}
        shadow = {**orjson.loads(decision_record(2)), "challenger_version": "m2",
                  "challenger_score": 0.25}  # fmt: skip
        DecisionStore(engine).write(Batch(decisions=[Position("decisions", 0, 2,
                                                              orjson.dumps(shadow))]))  # fmt: skip
        d = t.decisions.c
        with engine.connect() as conn:
            rows = conn.execute(select(d.txn_id, d.challenger_version, d.challenger_score)
                                .order_by(d.seq)).all()  # fmt: skip
        assert [tuple(r) for r in rows] == [("t0", None, None), ("t1", None, None),
                                            ("t2", "m2", 0.25)]  # fmt: skip
    finally:
        engine.dispose()
