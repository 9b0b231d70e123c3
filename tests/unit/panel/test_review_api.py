"""The review queue, case, models and monitoring endpoints: who may do what, and what they give."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson
import pytest
import xgboost as xgb
from sqlalchemy import Engine

from fraudguard.config import PanelSettings, Settings
from fraudguard.features import FEATURE_NAMES, FEATURE_SET_VERSION
from fraudguard.models.metadata import ModelMetadata
from fraudguard.models.registry import ModelRegistry
from fraudguard.panel.store import Batch, DecisionStore, Position
from fraudguard.wire.transactions import format_event_time

NOW = 1_795_428_000_000


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(panel=PanelSettings(login_attempts=3), models_root=tmp_path / "models")


@pytest.fixture
def model(settings: Settings) -> str:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, len(FEATURE_NAMES))).astype(np.float32)
    booster = xgb.train(
        {"objective": "binary:logistic", "nthread": 1},
        xgb.DMatrix(X, label=X[:, 0] > 0.5, feature_names=list(FEATURE_NAMES)),
        8,
    )
    registry = ModelRegistry.from_settings(settings)
    for version in ("m1", "m2"):
        registry.register(
            bytes(booster.save_raw("ubj")),
            ModelMetadata(
                version=version,
                created_at=f"2026-11-2{version[-1]}T00:00:00Z",
                framework="xgboost",
                feature_set_version=FEATURE_SET_VERSION,
                feature_names=list(FEATURE_NAMES),
                scale_pos_weight=1.0,
                code_version="test",
                metrics={"test": {"average_precision": 0.5}},
            ),
        )
    registry.promote("m1")
    return "m1"


def review(i: int, score: float, amount: float, model: str = "m1") -> bytes:
    features = {name: float(i % 3) for name in FEATURE_NAMES} | {"txn_amount_eur": amount}
    return orjson.dumps(
        {
            "txn_id": f"t{i}",
            "card_id": "c7",
            "merchant_id": "m9",
            "event_time": format_event_time(NOW + i),
            "decision": "review",
            "score": score,
            "model_version": model,
            "threshold_version": "v1",
            "decided_at_ms": NOW + i,
            "features": features,
            "feature_version": FEATURE_SET_VERSION,
            "amount": amount,
            "currency": "EUR",
            "mcc": "5411",
            "channel": "online",
            "country": "FR",
        }
    )


@pytest.fixture
def queued(engine: Engine, model: str) -> Engine:
    rows = [review(i, 0.5 + i / 100, 100.0 * (i + 1)) for i in range(6)]
    DecisionStore(engine).write(
        Batch(decisions=[Position("d", 0, i, r) for i, r in enumerate(rows)])
    )
    return engine


def test_a_viewer_sees_the_queue_but_cannot_act(client, queued: Engine) -> None:  # type: ignore[no-untyped-def]
    viewer = client("vera")
    page = viewer.get("/api/cases").json()
    assert page["total"] == 6 and [c["txn_id"] for c in page["cases"]][:2] == ["t5", "t4"]
    case_id = page["cases"][0]["id"]
    assert viewer.get(f"/api/cases/{case_id}").status_code == 200
    for path, body in (
        (f"/api/cases/{case_id}/claim", None),
        ("/api/cases/next", None),
        (f"/api/cases/{case_id}/verdict", {"verdict": "fraud"}),
        ("/api/models/promote", {"version": "m2", "reason": "x"}),
    ):
        assert viewer.post(path, json=body).status_code == 403, path


def test_an_analyst_works_the_queue_and_a_lead_settles_an_escalation(
    client, queued: Engine
) -> None:  # type: ignore[no-untyped-def]
    ana, lea = client("ana"), client("lea")
    first = ana.post("/api/cases/next").json()
    assert first["txn_id"] == "t5" and first["assignee"] == "ana"
    mine = ana.get("/api/cases", params={"assignee": "me"}).json()
    assert [c["id"] for c in mine["cases"]] == [first["id"]]
    closed = ana.post(f"/api/cases/{first['id']}/verdict", json={"verdict": "fraud"}).json()
    assert closed["status"] == "closed" and closed["label_id"]
    second = ana.post("/api/cases/next").json()
    up = ana.post(
        f"/api/cases/{second['id']}/verdict", json={"verdict": "escalate", "lean": "fraud"}
    )
    assert up.json()["status"] == "escalated"
    assert (
        ana.post(f"/api/cases/{second['id']}/verdict", json={"verdict": "legit"}).status_code == 403
    )
    settled = lea.post(f"/api/cases/{second['id']}/verdict", json={"verdict": "legit"}).json()
    assert settled["final_verdict"] == "legit" and settled["first_verdict"] == "fraud"
    ids = [c["id"] for c in ana.get("/api/cases", params={"status": "open"}).json()["cases"]][:3]
    bulk = ana.post("/api/cases/bulk", json={"ids": ids + [first["id"]], "action": "legit"}).json()
    assert bulk["done"] == ids and list(bulk["refused"]) == [str(first["id"])]
    reviews = lea.get("/api/monitoring/reviews").json()
    assert reviews["escalated_pairs"] == 1 and reviews["kappa"] == 0.0  # they disagreed


def test_the_case_explains_the_score_and_shows_the_cards_history(client, queued: Engine) -> None:  # type: ignore[no-untyped-def]
    ana = client("ana")
    case_id = ana.get("/api/cases").json()["cases"][0]["id"]
    view = ana.get(f"/api/cases/{case_id}").json()
    why = view["contributions"]
    assert why["available"] and why["model_version"] == "m1" and len(why["top"]) == 15
    assert abs(why["bias"] + sum(c["contribution"] for c in why["top"]) - why["logit"]) < 1.0
    assert why["chart"].startswith("<svg")
    assert len(view["recent"]) == 6 and view["decision"]["txn_id"] == view["case"]["txn_id"]
    assert view["online"]["available"] in (True, False)  # Redis may not run for unit tests


def test_leads_promote_and_roll_back_models_with_a_reason(
    client, model: str, settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    analyst, lead, admin = client("ana"), client("lea"), client("adam")
    listed = analyst.get("/api/models").json()
    assert listed["champion"] == "m1" and {m["version"] for m in listed["models"]} == {"m1", "m2"}
    promote = {"version": "m2", "reason": "better"}
    assert analyst.post("/api/models/promote", json=promote).status_code == 403
    assert lead.post("/api/models/promote", json=promote | {"reason": ""}).status_code == 422
    assert lead.post("/api/models/promote", json=promote).json() == {"champion": "m2", "was": "m1"}
    assert ModelRegistry.from_settings(settings).pointer().champion == "m2"
    assert admin.post("/api/models/rollback", json={"reason": "worse"}).json()["champion"] == "m1"
    audit = admin.get("/api/audit", params={"action": "model."}).json()
    assert [(a["action"], a["actor"]) for a in audit] == [
        ("model.rollback", "adam"),
        ("model.promote", "lea"),
    ]


def test_the_case_shows_each_label_with_its_provenance(client, queued: Engine) -> None:  # type: ignore[no-untyped-def]
    provenance = {"analyst": "ana", "guideline_version": "g1", "label_id": "rv-1-a"}
    label = {
        "txn_id": "t5",
        "label": "fraud",
        "reported_at": format_event_time(NOW + 9),
        "source": "review",
        **provenance,
    }
    DecisionStore(queued).write(Batch(labels=[Position("l", 0, 0, orjson.dumps(label))]))
    ana = client("ana")
    case_id = ana.get("/api/cases").json()["cases"][0]["id"]
    [shown] = ana.get(f"/api/cases/{case_id}").json()["labels"]
    assert (shown["label"], shown["source"], shown["provenance"]) == ("fraud", "review", provenance)


def test_monitoring_and_review_analytics_come_with_their_charts(client, queued: Engine) -> None:  # type: ignore[no-untyped-def]
    vera = client("vera")
    overview = vera.get("/api/monitoring", params={"hours": 6}).json()
    assert (
        overview["chart"].startswith("<svg") and "Decisions per hour, last 6 h" in overview["chart"]
    )
    reviews = vera.get("/api/monitoring/reviews", params={"days": 7}).json()
    assert reviews["chart"].startswith("<svg") and len(reviews["days"]) == 7
