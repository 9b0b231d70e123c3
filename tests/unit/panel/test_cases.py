"""The review queue: cases from review decisions, ordered by expected loss, claimed, decided,
escalated and settled by a lead, corrected; every closing verdict one label in the outbox."""

from __future__ import annotations

import orjson
import pytest
from sqlalchemy import Engine, select, update

from fraudguard.config import PanelSettings
from fraudguard.errors import FraudGuardError
from fraudguard.panel import cases
from fraudguard.panel import tables as t
from fraudguard.panel.accounts import Session, User
from fraudguard.panel.audit import Actor
from fraudguard.panel.security import Role
from fraudguard.panel.store import Batch, DecisionStore, Position
from fraudguard.wire.transactions import format_event_time

T0 = 1_795_428_000_000
SETTINGS = PanelSettings()


def decision(i: int, decision: str, score: float, amount: float) -> bytes:
    return orjson.dumps(
        {
            "txn_id": f"t{i}",
            "card_id": f"c{i}",
            "merchant_id": f"m{i}",
            "terminal_id": f"m{i}-t1",
            "event_time": format_event_time(T0 + i),
            "decision": decision,
            "score": score,
            "model_version": "m1",
            "threshold_version": "v1",
            "decided_at_ms": T0 + i + 40,
            "features": {},
            "amount": amount,
            "currency": "EUR",
            "mcc": "5411" if i % 2 else "7995",
            "channel": "online",
            "country": "FR",
            "tier": "default",
        }
    )


def who(name: str, role: Role) -> tuple[Session, Actor]:
    return Session(User(1, name, role), "csrf", T0), Actor(name, role.value)


@pytest.fixture
def stored(engine: Engine) -> Engine:
    rows = [
        (0, "review", 0.6, 100.0),
        (1, "approve", 0.1, 900.0),
        (2, "review", 0.9, 20.0),
        (3, "review", 0.55, 1000.0),
        (4, "block", 0.95, 50.0),
    ]
    batch = Batch(decisions=[Position("decisions", 0, i, decision(i, *rest)) for i, *rest in rows])
    DecisionStore(engine).write(batch)
    DecisionStore(engine).write(batch)  # ingested again after a restart: no second case
    return engine


def test_every_review_decision_is_one_case_ordered_by_expected_loss(stored: Engine) -> None:
    total, queue = cases.queue(stored, cases.QueueFilter())
    assert total == 3
    assert [c["txn_id"] for c in queue] == ["t3", "t0", "t2"]  # 550, 60 and 18 euro at risk
    assert queue[0]["sla_due_ms"] == T0 + 3 + 40 + 24 * 3_600_000
    only = cases.queue(stored, cases.QueueFilter(mcc="7995"))[1]
    assert [c["txn_id"] for c in only] == ["t0", "t2"]


def test_next_gives_the_top_unassigned_case_and_claims_are_exclusive(stored: Engine) -> None:
    ana, ana_actor = who("ana", Role.ANALYST)
    bob, bob_actor = who("bob", Role.ANALYST)
    first = cases.take_next(stored, ana, ana_actor)
    second = cases.take_next(stored, bob, bob_actor)
    assert (first["txn_id"], first["assignee"]) == ("t3", "ana")
    assert (second["txn_id"], second["assignee"]) == ("t0", "bob")
    with pytest.raises(cases.CaseConflict, match="bob's"):
        cases.claim(stored, ana, ana_actor, second["id"])
    with pytest.raises(cases.CaseConflict, match="bob's"):
        cases.decide(stored, SETTINGS, ana, ana_actor, second["id"], "fraud")
    mine = cases.queue(stored, cases.QueueFilter(assignee="ana"))[1]
    assert [c["txn_id"] for c in mine] == ["t3"]
    lead, lead_actor = who("lea", Role.LEAD)
    assert cases.claim(stored, lead, lead_actor, second["id"])["assignee"] == "lea"


def outbox(engine: Engine) -> list[dict]:
    with engine.connect() as conn:
        rows = conn.execute(select(t.label_outbox.c.record).order_by(t.label_outbox.c.id))
        return [orjson.loads(r) for r in rows.scalars()]


def test_a_verdict_closes_the_case_with_one_label_even_when_clicked_twice(stored: Engine) -> None:
    ana, actor = who("ana", Role.ANALYST)
    case = cases.take_next(stored, ana, actor)
    closed = cases.decide(stored, SETTINGS, ana, actor, case["id"], "fraud")
    again = cases.decide(stored, SETTINGS, ana, actor, case["id"], "fraud")
    assert closed["status"] == "closed" and again == closed
    [label] = outbox(stored)
    assert label["txn_id"] == "t3" and label["label"] == "fraud" and label["source"] == "review"
    assert (label["card_id"], label["merchant_id"], label["terminal_id"]) == ("c3", "m3", "m3-t1")
    assert label["analyst"] == "ana" and label["guideline_version"] == "review-guidelines-v1"
    assert label["case_id"] == case["id"] and label["priority"] == pytest.approx(550.0)
    assert label["label_id"] == closed["label_id"] and label["reported_at"].endswith("Z")
    with pytest.raises(cases.CaseConflict, match="a lead corrects it"):
        cases.decide(stored, SETTINGS, ana, actor, case["id"], "legit")


def test_a_case_opened_before_cases_kept_the_entities_labels_its_decisions(
    stored: Engine,
) -> None:
    ana, actor = who("ana", Role.ANALYST)
    with stored.begin() as conn:  # as an older panel stored them
        conn.execute(update(t.cases).values(merchant_id=None, terminal_id=None))
        conn.execute(update(t.decisions).where(t.decisions.c.txn_id == "t0")
                     .values(terminal_id=None))  # fmt: skip
    for txn_id in ("t3", "t0"):
        case = cases.take_next(stored, ana, actor)
        assert case["txn_id"] == txn_id
        cases.decide(stored, SETTINGS, ana, actor, case["id"], "fraud")
    entities = [(x["merchant_id"], x["terminal_id"]) for x in outbox(stored)]
    assert entities == [("m3", "m3-t1"), ("m0", "")]


def test_an_escalated_case_is_settled_by_a_lead_and_a_correction_supersedes(stored: Engine) -> None:
    ana, ana_actor = who("ana", Role.ANALYST)
    lea, lea_actor = who("lea", Role.LEAD)
    case = cases.take_next(stored, ana, ana_actor)
    up = cases.decide(stored, SETTINGS, ana, ana_actor, case["id"], "escalate", lean="fraud")
    assert (up["status"], up["assignee"], up["first_verdict"]) == ("escalated", None, "fraud")
    assert outbox(stored) == []
    with pytest.raises(FraudGuardError, match="settled by a lead"):
        cases.decide(stored, SETTINGS, ana, ana_actor, case["id"], "legit")
    settled = cases.decide(stored, SETTINGS, lea, lea_actor, case["id"], "legit")
    assert (settled["final_verdict"], settled["final_by"], settled["first_by"]) == (
        "legit",
        "lea",
        "ana",
    )
    with pytest.raises(FraudGuardError, match="a lead corrects"):
        cases.correct(stored, SETTINGS, ana, ana_actor, case["id"], "fraud", "chargeback came")
    fixed = cases.correct(stored, SETTINGS, lea, lea_actor, case["id"], "fraud", "chargeback came")
    first, second = outbox(stored)
    assert (first["label"], second["label"]) == ("legit", "fraud")
    assert second["supersedes"] == first["label_id"] == settled["label_id"]
    assert fixed["label_id"] == second["label_id"] and second["reason"] == "chargeback came"
    with stored.connect() as conn:
        actions = conn.execute(select(t.audit.c.action).order_by(t.audit.c.id)).scalars().all()
    assert actions == ["case.claim", "case.escalate", "case.legit", "case.correct"]


def test_of_two_verdicts_at_once_only_the_first_closes_the_case_and_sends_a_label(
    stored: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    ana, actor = who("ana", Role.ANALYST)
    case = cases.take_next(stored, ana, actor)
    real_queue_label = cases.queue_label

    def another_request_closes_it_first(conn, settings, case, *args, **kwargs):  # type: ignore[no-untyped-def]
        # What PostgreSQL shows this transaction's UPDATE once the other request committed.
        conn.execute(
            update(t.cases)
            .where(t.cases.c.id == case["id"])
            .values(status="closed", final_verdict="fraud")
        )
        return real_queue_label(conn, settings, case, *args, **kwargs)

    monkeypatch.setattr(cases, "queue_label", another_request_closes_it_first)
    with pytest.raises(cases.CaseConflict, match="changed meanwhile"):
        cases.decide(stored, SETTINGS, ana, actor, case["id"], "legit")
    assert outbox(stored) == []  # the loser's label went with its transaction
