"""The thresholds workflow: drafts checked by the job's loader, four eyes, publishing through
the CLI's code path, rollback, and every step in the audit log."""

from __future__ import annotations

import orjson
from sqlalchemy import Engine

from fraudguard.control.messages import parse_control
from fraudguard.panel.store import Batch, DecisionStore, Position

V2 = 'version: "strict-v2"\nreview: 0.3\nblock: 0.7\n'


def test_a_bad_draft_is_refused_with_the_field_named(client) -> None:  # type: ignore[no-untyped-def]
    lead = client("lea")
    answer = lead.post(
        "/api/thresholds/validate", json={"yaml": "version: v\nreview: 0.9\nblock: 0.8\n"}
    )
    assert answer.status_code == 400
    assert answer.json()["message"] == "draft: block: 0.8 must be above review (0.9)"
    assert lead.post("/api/thresholds/drafts", json={"yaml": "review: [\n"}).status_code == 400


def test_four_eyes_publish_through_the_control_topic_and_audit_every_step(client, control) -> None:  # type: ignore[no-untyped-def]
    lea, leo, adam = client("lea"), client("leo"), client("adam")
    draft = lea.post("/api/thresholds/drafts", json={"yaml": V2}).json()
    assert draft["status"] == "draft" and draft["version"] == "strict-v2"
    edited = lea.put(
        f"/api/thresholds/drafts/{draft['id']}", json={"yaml": V2.replace("0.3", "0.35")}
    )
    assert edited.json()["yaml"].count("0.35") == 1
    assert (
        lea.post(f"/api/thresholds/drafts/{draft['id']}/propose", json={"reason": " "}).status_code
        == 400
    )
    proposed = lea.post(
        f"/api/thresholds/drafts/{draft['id']}/propose", json={"reason": "card testing wave"}
    )
    assert proposed.json()["status"] == "proposed"
    assert lea.put(f"/api/thresholds/drafts/{draft['id']}", json={"yaml": V2}).status_code == 409

    own = lea.post(f"/api/thresholds/drafts/{draft['id']}/approve", json={"note": ""})
    assert own.status_code == 403 and "four eyes" in own.json()["message"]
    assert control.messages == []
    approved = leo.post(f"/api/thresholds/drafts/{draft['id']}/approve", json={"note": "ok"}).json()
    assert approved["status"] == "published" and approved["published_offset"] == 0
    [message] = control.messages
    change = parse_control(message)
    assert (change.tiers.version, change.tiers.review, change.tiers.block) == (
        "strict-v2",
        0.35,
        0.7,
    )
    assert lea.get("/api/thresholds").json()["version"] == "strict-v2"

    audit = adam.get("/api/audit").json()
    steps = [
        (row["actor"], row["action"])
        for row in reversed(audit)
        if row["target"] == f"draft {draft['id']}"
    ]
    assert steps == [
        ("lea", "draft.create"),
        ("lea", "draft.edit"),
        ("lea", "draft.propose"),
        ("leo", "thresholds.publish"),
    ]
    csv = adam.get("/api/audit.csv?action=thresholds.").text.splitlines()
    assert (
        csv[0].startswith("id,at_ms,actor")
        and len(csv) == 2
        and ",leo,lead,thresholds.publish," in csv[1]
    )


def test_a_reused_version_with_other_tiers_is_refused_at_approval(client, control) -> None:  # type: ignore[no-untyped-def]
    lea, leo = client("lea"), client("leo")
    for yaml in (V2, V2.replace("0.7", "0.75")):
        draft = lea.post("/api/thresholds/drafts", json={"yaml": yaml}).json()
        lea.post(f"/api/thresholds/drafts/{draft['id']}/propose", json={"reason": "r"})
        answer = leo.post(f"/api/thresholds/drafts/{draft['id']}/approve", json={"note": ""})
    assert (
        answer.status_code == 400
        and "already published with different tiers" in answer.json()["message"]
    )
    assert len(control.messages) == 1


def test_rollback_is_a_proposal_approved_by_someone_else(client, control) -> None:  # type: ignore[no-untyped-def]
    lea, leo = client("lea"), client("leo")
    for yaml in ('version: "a"\nreview: 0.5\nblock: 0.8\n', V2):
        draft = lea.post("/api/thresholds/drafts", json={"yaml": yaml}).json()
        lea.post(f"/api/thresholds/drafts/{draft['id']}/propose", json={"reason": "r"})
        leo.post(f"/api/thresholds/drafts/{draft['id']}/approve", json={"note": ""})
    assert (
        lea.post("/api/thresholds/rollback", json={"version": "zzz", "reason": "r"}).status_code
        == 400
    )
    back = lea.post(
        "/api/thresholds/rollback", json={"version": "a", "reason": "too many reviews"}
    ).json()
    assert back["status"] == "proposed" and back["rollback_to"] == "a"
    assert (
        lea.post(f"/api/thresholds/drafts/{back['id']}/approve", json={"note": ""}).status_code
        == 403
    )
    leo.post(f"/api/thresholds/drafts/{back['id']}/reject", json={"note": "not now"})
    assert len(control.messages) == 2
    again = lea.post("/api/thresholds/rollback", json={"version": "a", "reason": "now"}).json()
    leo.post(f"/api/thresholds/drafts/{again['id']}/approve", json={"note": ""})
    assert [parse_control(m).tiers.version for m in control.messages] == ["a", "strict-v2", "a"]
    history = lea.get("/api/thresholds").json()["history"]
    assert [h["version"] for h in history] == ["a", "strict-v2", "a"]


def decision(
    i: int,
    score: float,
    mcc: str = "5411",
    amount_eur: float = 100.0,
    explored: bool = False,
    propensity: float = 1.0,
    threshold: str = "builtin-v1",
    event_ms: int | None = None,
) -> bytes:
    from fraudguard.wire.transactions import format_event_time

    at = event_ms if event_ms is not None else 1_795_428_000_000 + i * 1000
    return orjson.dumps(
        {
            "txn_id": f"t{i}",
            "card_id": f"c{i % 7}",
            "event_time": format_event_time(at),
            "decision": "approve",
            "score": score,
            "model_version": "m1",
            "threshold_version": threshold,
            "decided_at_ms": at + 50,
            "features": {},
            "amount": amount_eur,
            "currency": "EUR",
            "mcc": mcc,
            "channel": "online",
            "country": "FR",
            "explored": explored,
            "propensity": propensity,
        }
    )


def label(i: int, value: str) -> bytes:
    return orjson.dumps(
        {
            "txn_id": f"t{i}",
            "label": value,
            "reported_at": "2026-11-30T00:00:00Z",
            "source": "chargeback",
        }
    )


def test_the_what_if_counts_alerts_labels_euro_and_lists_the_changes(
    client, engine: Engine
) -> None:  # type: ignore[no-untyped-def]
    store = DecisionStore(engine)
    scores = [0.1, 0.35, 0.45, 0.55, 0.9]
    labels = ["legit", "fraud", "legit", "fraud", "fraud"]
    batch = Batch(
        decisions=[
            Position("decisions", 0, i, decision(i, s, amount_eur=10.0 * (i + 1)))
            for i, s in enumerate(scores)
        ],
        labels=[Position("labels", 0, i, label(i, v)) for i, v in enumerate(labels)],
    )
    store.write(batch)
    to_ms = 1_795_428_000_000 + 86_400_000
    from fraudguard.panel import thresholds as service

    app_state = client("ana").app.state.panel  # type: ignore[attr-defined]
    from fraudguard.decision import BUILTIN_TIERS, tiers_from_yaml

    report = service.what_if_report(
        app_state.columns,
        engine,
        app_state.settings,
        tiers_from_yaml(V2),
        BUILTIN_TIERS,
        days=1,
        to_ms=to_ms,
    )
    assert report["rows"] == 5 and report["unlabelled"] == 0
    current, draft = report["current"], report["candidate"]
    assert current["decisions"] == {"approve": 3, "review": 1, "block": 1}
    assert draft["decisions"] == {"approve": 1, "review": 3, "block": 1}
    assert (current["fraud_caught"], draft["fraud_caught"]) == (2, 3)
    assert (current["euro_caught"], current["euro_missed"]) == (90.0, 20.0)
    assert (draft["euro_caught"], draft["euro_missed"]) == (110.0, 0.0)
    assert draft["recall"] == 1.0 and draft["precision"] == 0.75
    assert report["daily"]["current"]["alerts"] == [2] and report["daily"]["draft"]["alerts"] == [4]
    assert sorted(t["txn_id"] for t in report["new_positive_txns"]) == ["t1", "t2"]
    assert report["lost_positive_txns"] == [] and report["changed"] == {"approve->review": 2}
    assert report["charts"]["histogram"].startswith("<svg")

    # The API gives the same over its own period (the stored events are in the past).
    api = client("ana").post("/api/thresholds/whatif", json={"yaml": V2, "days": 90}).json()
    assert api["rows"] == 0 or api["candidate"]["decisions"] == draft["decisions"]


def test_the_exploration_sample_is_weighted_by_its_propensity(client, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    store = DecisionStore(engine)
    batch = Batch(
        decisions=[
            Position("decisions", 0, 0, decision(0, 0.9, explored=True, propensity=0.25)),
            Position("decisions", 0, 1, decision(1, 0.6, explored=True, propensity=0.5)),
            Position("decisions", 0, 2, decision(2, 0.95)),
        ],
        labels=[
            Position("labels", 0, 0, label(0, "fraud")),
            Position("labels", 0, 1, label(1, "legit")),
        ],
    )
    store.write(batch)
    from fraudguard.decision import BUILTIN_TIERS
    from fraudguard.panel import thresholds as service

    state = client("ana").app.state.panel  # type: ignore[attr-defined]
    report = service.what_if_report(
        state.columns,
        engine,
        state.settings,
        BUILTIN_TIERS,
        BUILTIN_TIERS,
        days=1,
        to_ms=1_795_428_000_000 + 86_400_000,
    )
    sample = report["exploration"]
    assert (sample["rows"], sample["labelled"], sample["fraud"]) == (2, 2, 1)
    assert sample["current"]["fraud"] == 4.0 and sample["current"]["legit"] == 2.0
    assert sample["current"]["precision"] == 4.0 / 6.0
