"""The Models page's challenger, comparison, lifecycle log and freeze: what each role sees and
may do, and figures equal to the library's on the same stored rows."""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import orjson
import pytest
from sqlalchemy import Engine, create_engine, inspect, select

from fraudguard.config import GateSettings, PanelSettings, Settings
from fraudguard.control import changes
from fraudguard.features import FEATURE_SET_VERSION
from fraudguard.models.gates import compare_scores, promotion_verdict
from fraudguard.models.metadata import ModelMetadata
from fraudguard.models.registry import TREES_FILE, ModelRegistry
from fraudguard.panel import tables as t
from fraudguard.panel.db import open_database
from fraudguard.panel.models import comparison_view
from fraudguard.panel.store import Batch, DecisionStore, Position
from fraudguard.wire.transactions import format_event_time

DAY_MS = 86_400_000
NODES = {"m1": 100, "m2": 120}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        panel=PanelSettings(login_attempts=3),
        models_root=tmp_path / "models",
        gates=GateSettings(min_explored_labelled=10),
    )


def trees(nodes: int) -> bytes:
    tree = {"left": [-1] * nodes, "right": [-1] * nodes, "feature": [0] * nodes,
            "threshold": [0.0] * nodes, "default_left": [0] * nodes}  # fmt: skip
    return orjson.dumps({"format": "fraudguard-trees-1", "base_margin": 0.0, "num_feature": 1,
                         "trees": [tree]})  # fmt: skip


@pytest.fixture
def registry(settings: Settings) -> ModelRegistry:
    """m1 the champion, m2 registered (not yet the challenger), each with compiled trees."""
    registry = ModelRegistry.from_settings(settings)
    for version, nodes in NODES.items():
        meta = ModelMetadata(
            version=version, created_at=f"2026-12-0{version[-1]}T00:00:00Z",
            framework="xgboost", feature_set_version=FEATURE_SET_VERSION, feature_names=["a"],
            scale_pos_weight=1.0, code_version="t",
        )  # fmt: skip
        registry.register(
            b"m", meta, attach=lambda d, n=nodes: (d / TREES_FILE).write_bytes(trees(n))
        )
    registry.promote("m1")
    return registry


def decision(i: int, event_ms: int, base: float, shadow: float | None, verdict: str = "approve",
             explored: bool = False, propensity: float = 1.0, model: str = "m1",
             challenger: str | None = "m2") -> Position:  # fmt: skip
    record = {
        "txn_id": f"t{i}", "card_id": "c1", "event_time": format_event_time(event_ms),
        "decision": verdict, "score": base, "base_score": base, "model_version": model,
        "threshold_version": "v1", "decided_at_ms": event_ms, "features": {},
        "explored": explored, "propensity": propensity, "amount": 10.0, "currency": "EUR",
        "challenger_version": challenger if shadow is not None else None,
        "challenger_score": shadow,
    }  # fmt: skip
    return Position("decisions", 0, i, orjson.dumps(record))


def label(n: int, txn: str, verdict: str, reported_ms: int) -> Position:
    record = {"txn_id": txn, "label": verdict, "reported_at": format_event_time(reported_ms),
              "source": "chargeback"}  # fmt: skip
    return Position("labels", 0, n, orjson.dumps(record))


def test_the_view_without_a_challenger_says_there_is_nothing_to_compare(
    client, registry: ModelRegistry
) -> None:  # type: ignore[no-untyped-def]
    viewer = client("vera")
    listed = viewer.get("/api/models").json()
    assert (listed["challenger"], listed["challenger_since"]) == (None, None)
    assert not listed["frozen"] and listed["frozen_reason"] is None
    assert not any(m["challenger"] for m in listed["models"])
    compared = viewer.get("/api/models/comparison").json()
    assert not compared["comparable"] and compared["figures"] is None
    assert compared["not_enough"][0].startswith("No shadow challenger is set")


def test_the_view_shows_the_challenger_and_says_when_it_has_no_scores_yet(
    client, registry: ModelRegistry, engine: Engine
) -> None:  # type: ignore[no-untyped-def]
    pointer = registry.set_challenger("m2")
    now = int(time.time() * 1000)
    DecisionStore(engine).write(Batch(decisions=[decision(0, now, 0.3, None)]))
    viewer = client("vera")
    listed = viewer.get("/api/models").json()
    assert (listed["challenger"], listed["challenger_since"]) == ("m2", pointer.challenger_since)
    assert [m["version"] for m in listed["models"] if m["challenger"]] == ["m2"]
    compared = viewer.get("/api/models/comparison").json()
    assert not compared["comparable"] and compared["challenger"] == "m2"
    assert "carries a score of challenger m2" in compared["not_enough"][0]


def test_too_few_labels_are_said_plainly_not_shown_as_zeros(
    client, registry: ModelRegistry, engine: Engine
) -> None:  # type: ignore[no-untyped-def]
    registry.set_challenger("m2")
    now = int(time.time() * 1000)
    young = [decision(i, now - DAY_MS, i / 10, i / 11) for i in range(10)]
    DecisionStore(engine).write(Batch(decisions=young))
    compared = client("vera").get("/api/models/comparison").json()
    figures = compared["figures"]
    assert compared["comparable"] and figures["decisions"] == 10 and figures["labelled"] == 0
    for key in ("ap_champion_matured", "ap_challenger_matured", "ap_champion_unbiased"):
        assert figures[key] is None, key
    matured, explored = compared["not_enough"]
    assert "matured labels" in matured and "10 both scored, 0 have a known label" in matured
    assert "explored sample is too small" in explored and "needs 10" in explored
    assert not compared["gate"]["allowed"]
    assert compared["gate"]["reasons"][0].startswith("unbiased sample too small: 0 labelled")


def test_the_comparison_is_the_librarys_on_the_same_stored_rows(
    client, registry: ModelRegistry, engine: Engine, settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    registry.set_challenger("m2")
    now = int(time.time() * 1000)
    rng = np.random.default_rng(3)
    n = 400
    fraud = rng.random(n) < 0.2
    base = np.clip(0.3 * fraud + rng.normal(0.3, 0.15, n), 0, 1).round(4)
    shadow = np.clip(0.5 * fraud + rng.normal(0.3, 0.15, n), 0, 1).round(4)
    verdict = np.where(base > 0.55, "block", np.where(base > 0.45, "review", "approve"))
    explored = (verdict != "approve") & (rng.random(n) < 0.5)
    verdict[explored] = "approve"  # an explored release is an approval
    propensity = np.where(explored, 0.1, 1.0)
    old = rng.random(n) < 0.5  # older than the 60-day label window
    event_ms = np.where(old, now - 90 * DAY_MS, now - DAY_MS) + np.arange(n)
    rows = [decision(i, int(event_ms[i]), float(base[i]), float(shadow[i]), str(verdict[i]),
                     bool(explored[i]), float(propensity[i])) for i in range(n)]  # fmt: skip
    # Not compared: another champion's decision, and one made before the challenger scored.
    rows += [decision(n, now, 0.9, 0.9, model="m0"), decision(n + 1, now, 0.9, None)]
    labelled = (verdict != "approve") | (rng.random(n) < 0.6)
    labels, expected = [], np.full(n, -1, np.int8)
    for i in np.flatnonzero(labelled):
        if rng.random() < 0.1:  # a correction: the newest label wins
            labels.append(label(len(labels), f"t{i}", "legit" if fraud[i] else "fraud", now - 3))
        labels.append(label(len(labels), f"t{i}", "fraud" if fraud[i] else "legit", now - 2))
        expected[i] = int(fraud[i])
    labels.append(label(len(labels), "t0", "fraud", now + DAY_MS))  # not reported yet
    expected[(verdict == "approve") & ~labelled & old] = 0  # matured approvals
    DecisionStore(engine).write(Batch(decisions=rows, labels=labels))

    compared = client("vera").get("/api/models/comparison").json()
    library = compare_scores("m1", "m2", base, shadow, expected, explored, propensity,
                             (NODES["m1"], NODES["m2"]))  # fmt: skip
    assert compared["comparable"] and compared["not_enough"] == []
    figures = compared["figures"]
    for key, want in library.to_dict().items():
        assert figures[key] == (pytest.approx(want) if isinstance(want, float) else want), key
    assert figures["explored_labelled"] >= 10 and not math.isnan(library.ap_champion_unbiased)
    verdict_now = promotion_verdict(library, settings.gates)
    assert compared["gate"] == {"allowed": verdict_now.allowed, "reasons": verdict_now.reasons}
    # The service reads the same figures with an explicit clock.
    direct = comparison_view(engine, settings, now_ms=now + 10_000)["figures"]
    assert direct["decisions"] == n and direct["labelled"] == int((expected >= 0).sum())


def test_leads_freeze_and_unfreeze_with_a_reason_csrf_and_audit(
    client, registry: ModelRegistry, settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    analyst, lead, admin = client("ana"), client("lea"), client("adam")
    body = {"reason": "incident 42"}
    assert analyst.post("/api/models/freeze", json=body).status_code == 403
    no_token = client("leo")
    del no_token.headers["X-CSRF-Token"]
    refused = no_token.post("/api/models/freeze", json=body)
    assert refused.status_code == 403 and "CSRF" in refused.json()["message"]
    assert lead.post("/api/models/freeze", json={"reason": ""}).status_code == 422
    assert lead.post("/api/models/freeze", json={}).status_code == 422
    assert ModelRegistry.from_settings(settings).pointer().frozen is None
    frozen = lead.post("/api/models/freeze", json=body).json()
    assert frozen == {"frozen": True, "frozen_reason": "incident 42", "was": None}
    assert ModelRegistry.from_settings(settings).pointer().frozen == "incident 42"
    listed = analyst.get("/api/models").json()
    assert (listed["frozen"], listed["frozen_reason"]) == (True, "incident 42")
    assert analyst.post("/api/models/unfreeze", json={}).status_code == 403
    assert admin.post("/api/models/unfreeze", json={"reason": "resolved"}).json()["was"] == (
        "incident 42"
    )
    assert ModelRegistry.from_settings(settings).pointer().frozen is None
    again = admin.post("/api/models/unfreeze", json={})
    assert again.status_code == 409 and "not frozen" in again.json()["message"]
    audit = admin.get("/api/audit", params={"action": "model."}).json()
    assert [(a["action"], a["actor"], a["after"]["reason"]) for a in audit] == [
        ("model.unfreeze", "adam", "resolved"),
        ("model.freeze", "lea", "incident 42"),
    ]
    assert audit[1]["before"] == {"frozen": None}


def test_the_lifecycle_log_shows_the_governors_actions_and_leads_see_peoples_too(
    client, registry: ModelRegistry, settings: Settings, control: object
) -> None:  # type: ignore[no-untyped-def]
    viewer, lead = client("vera"), client("lea")
    assert viewer.get("/api/models/lifecycle").json()["last_round"] is None
    changes.record_model_action(settings, "promote", "m2", ["AP 0.46 vs 0.40, PSI 0.05"], 1_000)
    changes.record_model_action(settings, "rollback", "m2", ["block rate 4.00% outside"], 2_000)
    changes.record_model_action(settings, "none", None, ["frozen: incident 42"], 3_000)
    lead.post("/api/models/freeze", json={"reason": "incident 42"})
    seen = viewer.get("/api/models/lifecycle").json()
    assert not seen["people_shown"] and seen["frozen_reason"] == "incident 42"
    assert [(e["by"], e["action"], e["version"], e["reasons"]) for e in seen["events"]] == [
        ("governor", "rollback", "m2", ["block rate 4.00% outside"]),
        ("governor", "promote", "m2", ["AP 0.46 vs 0.40, PSI 0.05"]),
    ]
    assert seen["last_round"] == {"at_ms": 3_000, "action": "none", "version": None,
                                  "reasons": ["frozen: incident 42"]}  # fmt: skip
    led = lead.get("/api/models/lifecycle").json()
    assert led["people_shown"]
    assert [(e["by"], e["action"], e["reasons"]) for e in led["events"]][0] == (
        "lea",
        "freeze",
        ["incident 42"],
    )
    assert len(led["events"]) == 3


def test_an_older_database_grows_the_challenger_columns_and_keeps_its_rows(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'panel.db'}"
    older = create_engine(url)
    with older.begin() as conn:  # the decisions table as it was before challenger scores
        names = [c.name for c in t.decisions.columns if not c.name.startswith("challenger")]
        conn.exec_driver_sql(f"CREATE TABLE decisions ({', '.join(names)}, PRIMARY KEY (seq))")
        conn.exec_driver_sql("INSERT INTO decisions (seq, txn_id, score) VALUES (1, 'old', 0.5)")
    older.dispose()
    engine = open_database(url)
    columns = {c["name"] for c in inspect(engine).get_columns("decisions")}
    assert {"challenger_version", "challenger_score"} <= columns
    assert "decisions_challenger" in {i["name"] for i in inspect(engine).get_indexes("decisions")}
    with engine.connect() as conn:
        kept = conn.execute(select(t.decisions.c.txn_id, t.decisions.c.challenger_score)).all()
    assert [tuple(r) for r in kept] == [("old", None)]
    open_database(url)  # a second start finds nothing to add


def test_the_page_has_the_challenger_comparison_lifecycle_and_freeze(
    client, registry: ModelRegistry
) -> None:  # type: ignore[no-untyped-def]
    page = client("vera").get("/models")
    assert page.status_code == 200
    for part in ('id="challenger-line"', 'id="freeze-line"', 'id="comparison"',
                 'id="lifecycle"', 'id="model-freeze"'):  # fmt: skip
        assert part in page.text, part
