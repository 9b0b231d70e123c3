"""The decision store: idempotent by key, offsets with the rows, refusals kept with their reason,
the columns the what-if reads, and the audit log that the database keeps append-only."""

from __future__ import annotations

import orjson
import pytest
from sqlalchemy import Engine, create_engine, insert, select, text
from sqlalchemy.exc import DatabaseError

from fraudguard.panel import tables as t
from fraudguard.panel.audit import Actor, record
from fraudguard.panel.columns import DecisionColumns
from fraudguard.panel.db import grow_schema
from fraudguard.panel.store import Batch, DecisionStore, Position, decision_row
from fraudguard.wire.transactions import format_event_time

T0 = 1_795_428_000_000


def decision(i: int, score: float = 0.5, at: int = T0) -> bytes:
    return orjson.dumps(
        {
            "txn_id": f"t{i}",
            "card_id": "c1",
            "merchant_id": "m1",
            "terminal_id": "m1-t2",
            "event_time": format_event_time(at + i),
            "decision": "review",
            "score": score,
            "model_version": "m1",
            "threshold_version": "v1",
            "decided_at_ms": at + i + 5,
            "features": {"txn_amount_eur": 12.5},
            "amount": 50.0,
            "currency": "PLN",
            "mcc": "5411",
            "channel": "online",
            "country": "PL",
        }
    )


def label(i: int, value: str, reported: str = "2026-11-30T00:00:00Z") -> bytes:
    return orjson.dumps(
        {
            "txn_id": f"t{i}",
            "label": value,
            "reported_at": reported,
            "source": "review",
            "analyst": "ana",
        }
    )


def test_a_batch_and_its_offsets_are_stored_once(engine: Engine) -> None:
    store = DecisionStore(engine)
    batch = Batch(
        decisions=[Position("decisions", 1, i, decision(i)) for i in range(3)],
        labels=[Position("labels", 0, 0, label(1, "fraud"))],
        next_offsets={("decisions", 1): 3, ("labels", 0): 1},
    )
    first = store.write(batch)
    again = store.write(batch)  # a restart that re-reads what was already stored
    assert (first.stored_decisions, first.stored_labels) == (3, 1)
    assert (again.stored_decisions, again.stored_labels) == (0, 0)
    assert store.counts() == {"decisions": 3, "labels": 1, "rejects": 0}
    assert store.offsets() == {("decisions", 1): 3, ("labels", 0): 1}


def test_a_decision_keeps_the_amount_in_euro_from_its_features_and_its_segment() -> None:
    row = decision_row(decision(0))
    assert (row["merchant_id"], row["terminal_id"]) == ("m1", "m1-t2")
    older = {k: v for k, v in orjson.loads(decision(0)).items() if k != "terminal_id"}
    assert decision_row(orjson.dumps(older))["terminal_id"] == ""
    assert (row["amount"], row["currency"], row["amount_eur"]) == (50.0, "PLN", 12.5)
    assert (row["mcc"], row["channel"], row["country"], row["tier"]) == (
        "5411",
        "online",
        "PL",
        "default",
    )


ENTITIES = ("merchant_id", "terminal_id")


def test_an_older_database_grows_the_entity_columns_cases_name_in_their_labels() -> None:
    older = create_engine("sqlite://")
    with older.begin() as conn:  # decisions and cases as they were before the columns
        for table, added in ((t.decisions, {"terminal_id"}), (t.cases, set(ENTITIES))):
            kept = ", ".join(c.name for c in table.columns if c.name not in added)
            conn.exec_driver_sql(f"CREATE TABLE {table.name} ({kept})")
        t.metadata.create_all(conn)
        grown = grow_schema(conn)
    assert sorted(grown) == ["cases.merchant_id", "cases.terminal_id", "decisions.terminal_id"]


@pytest.mark.parametrize(
    ("raw", "reason", "detail"),
    [
        (b"{oops", "bad_decision", "not JSON"),
        (b"[1]", "bad_decision", "not a JSON object"),
        (b'{"txn_id": "t"}', "bad_decision", "decision"),
        (b'{"txn_id": "t", "decision": "maybe", "score": 1}', "bad_decision", "'maybe'"),
        (None, "bad_decision", "not JSON"),
    ],
)
def test_a_record_that_cannot_be_stored_is_kept_with_its_reason(
    engine: Engine, raw: bytes | None, reason: str, detail: str
) -> None:
    store = DecisionStore(engine)
    written = store.write(
        Batch(decisions=[Position("decisions", 0, 7, raw)], next_offsets={("decisions", 0): 8})
    )
    assert written.rejected == 1 and store.rejects_by_reason() == {reason: 1}
    with engine.connect() as conn:
        kept = conn.execute(select(t.ingest_rejects)).mappings().one()
    assert (kept["topic"], kept["offset"]) == ("decisions", 7) and detail in kept["detail"]
    assert store.offsets() == {("decisions", 0): 8}  # counted, and not read again


def test_bad_labels_are_refused_by_reason(engine: Engine) -> None:
    store = DecisionStore(engine)
    bad = [
        b'{"txn_id": "t1", "label": "maybe", "reported_at": "2026-11-30T00:00:00Z"}',
        b'{"txn_id": "t1", "label": "fraud", "reported_at": "yesterday"}',
        b"nope",
    ]
    store.write(Batch(labels=[Position("labels", 0, i, raw) for i, raw in enumerate(bad)]))
    assert store.rejects_by_reason() == {"bad_label": 3}


def test_columns_follow_new_decisions_late_labels_corrections_and_retention(engine: Engine) -> None:
    store = DecisionStore(engine)
    columns = DecisionColumns(engine)
    store.write(Batch(labels=[Position("labels", 0, 0, label(2, "fraud"))]))  # before its decision
    store.write(
        Batch(decisions=[Position("decisions", 0, i, decision(i, 0.1 * i)) for i in range(4)])
    )
    assert columns.refresh() == 4
    rows, seqs = columns.window(T0, T0 + 10)
    assert rows.label.tolist() == [-1, -1, 1, -1] and len(seqs) == 4
    store.write(
        Batch(
            labels=[
                Position("labels", 0, 1, label(0, "legit")),
                Position("labels", 0, 2, label(2, "legit")),
            ]
        )
    )  # a correction
    assert columns.refresh() == 0
    assert columns.window(T0, T0 + 10)[0].label.tolist() == [0, -1, 0, -1]
    assert columns.window(T0 + 2, T0 + 3)[0].score.tolist() == [0.2]
    assert store.purge(T0 + 2) == 2
    columns.refresh()
    assert len(columns) == 2 and columns.window(T0, T0 + 10)[0].label.tolist() == [0, -1]


def test_the_database_refuses_to_change_or_delete_an_audit_row(engine: Engine) -> None:
    with engine.begin() as conn:
        record(conn, Actor("lea", "lead"), "draft.create", "draft 1", after={"v": 1})
    for statement in ("UPDATE audit SET actor = 'eve'", "DELETE FROM audit"):
        with pytest.raises(DatabaseError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    with engine.connect() as conn:
        assert conn.execute(select(t.audit.c.actor)).scalars().all() == ["lea"]
        # inserting is what the log is for
    with engine.begin() as conn:
        conn.execute(insert(t.audit).values(at_ms=1, actor="x", role="admin", action="a"))
