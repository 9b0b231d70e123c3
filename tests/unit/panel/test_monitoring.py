"""Monitoring on the stored decisions: outcomes per hour with model changes, exploration spend,
drift of a shifted stream and not of an unshifted one, rate and degraded alerts, and the review
team's analytics. The Job section from the job's metrics endpoint (a recorded scrape of a real
job served on loopback), and from an endpoint that is down, refuses, hangs or is another's."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import orjson
import pytest
from sqlalchemy import Engine

from fraudguard.config import FlinkSettings, MetricsSettings, Settings
from fraudguard.features import FEATURE_NAMES, FEATURE_SET_VERSION
from fraudguard.models.metadata import ModelMetadata
from fraudguard.models.registry import REFERENCE_FILE, ModelRegistry
from fraudguard.monitoring.drift import reference
from fraudguard.panel import analytics, monitoring
from fraudguard.panel.store import Batch, DecisionStore, Position
from fraudguard.stack.ports import free_port
from fraudguard.wire.transactions import format_event_time

if TYPE_CHECKING:
    from tests.unit.conftest import RecordedEndpoint
    from tests.unit.panel.conftest import Client

NOW = 1_795_428_000_000
HOUR = 3_600_000
AMOUNT = FEATURE_NAMES.index("txn_amount_eur")


def record(
    i: int,
    at: int,
    decision: str = "approve",
    model: str = "m1",
    amount: float = 40.0,
    degraded: bool = False,
    explored: bool = False,
    score: float = 0.1,
) -> bytes:
    features = {name: 1.0 for name in FEATURE_NAMES} | {"txn_amount_eur": amount}
    return orjson.dumps(
        {
            "txn_id": f"t{i}",
            "card_id": "c",
            "event_time": format_event_time(at),
            "decision": decision,
            "score": score,
            "model_version": model,
            "threshold_version": "v1",
            "decided_at_ms": at,
            "features": features,
            "feature_version": FEATURE_SET_VERSION,
            "amount": amount,
            "currency": "EUR",
            "mcc": "5411",
            "channel": "online",
            "country": "FR",
            "degraded": degraded,
            "explored": explored,
            "propensity": 0.5,
        }
    )


def store(engine: Engine, records: list[bytes]) -> None:
    DecisionStore(engine).write(
        Batch(decisions=[Position("d", 0, i, r) for i, r in enumerate(records)])
    )


def test_outcomes_per_hour_mark_a_model_change_and_count_the_exploration_spend(
    engine: Engine,
) -> None:
    records = [
        record(i, NOW - 3 * HOUR + i, "review" if i % 4 == 0 else "approve") for i in range(20)
    ]
    records += [
        record(100 + i, NOW - HOUR + i, model="m2", explored=i < 3, amount=10.0) for i in range(10)
    ]
    store(engine, records)
    view = monitoring.overview(engine, Settings(), hours=24, now_ms=NOW)
    assert view["decisions"] == 30 and view["late"] == 0 and view["degraded"] == 0
    [first, second] = view["by_hour"]
    assert (first["review"], first["approve"], first["models"]) == (5, 15, ["m1"])
    assert (first["hour_ms"], second["hour_ms"]) == (
        (NOW - 3 * HOUR) // HOUR * HOUR,
        (NOW - HOUR) // HOUR * HOUR,
    )
    assert second["models"] == ["m2"] and second["model_change"] and not first["model_change"]
    assert view["exploration"]["explored"] == 3 and view["exploration"]["amount_eur"] == 30.0


def champion_with_reference(tmp_path: Path, amounts: np.ndarray) -> Settings:
    settings = Settings(models_root=tmp_path / "models")
    registry = ModelRegistry.from_settings(settings)
    rows = np.ones((len(amounts), len(FEATURE_NAMES)))
    rows[:, AMOUNT] = amounts
    ref = reference(np.full(len(amounts), 0.1), rows, list(FEATURE_NAMES), {"txn_amount_eur": 5.0})
    metadata = ModelMetadata(
        version="m1",
        created_at="2026-11-26T00:00:00Z",
        framework="xgboost",
        feature_set_version=FEATURE_SET_VERSION,
        feature_names=list(FEATURE_NAMES),
        scale_pos_weight=1.0,
        code_version="test",
    )
    registry.register(
        b"m", metadata, attach=lambda d: (d / REFERENCE_FILE).write_bytes(orjson.dumps(ref))
    )
    registry.promote("m1")
    return settings


@pytest.mark.parametrize(("factor", "alerted"), [(1.0, False), (3.0, True)])
def test_amounts_scaled_by_three_raise_a_drift_alert(
    engine: Engine, tmp_path: Path, factor: float, alerted: bool
) -> None:
    rng = np.random.default_rng(4)
    settings = champion_with_reference(tmp_path, rng.lognormal(3.5, 1.0, 20_000))
    live = rng.lognormal(3.5, 1.0, 2_000) * factor
    store(engine, [record(i, NOW - HOUR + i, amount=float(a)) for i, a in enumerate(live)])
    measured = monitoring.drift(engine, settings, now_ms=NOW)
    [amount] = measured["features"]
    assert measured["rows"] == 2_000 and (amount["psi"] > 0.2) == alerted
    found = monitoring.alerts(engine, settings, now_ms=NOW)
    assert [a["subject"] for a in found if a["kind"] == "drift"] == (
        ["txn_amount_eur"] if alerted else []
    )


def test_a_block_rate_three_times_its_baseline_and_degraded_decisions_are_alerts(
    engine: Engine, tmp_path: Path
) -> None:
    settings = Settings(models_root=tmp_path / "none")
    week = [
        record(i, NOW - 2 * 86_400_000 + i * 1000, "block" if i % 100 == 0 else "approve")
        for i in range(2_000)
    ]
    hour = [
        record(
            10_000 + i, NOW - HOUR // 2 + i, "block" if i % 10 == 0 else "approve", degraded=i == 5
        )
        for i in range(400)
    ]
    store(engine, week + hour)
    found = monitoring.alerts(engine, settings, now_ms=NOW)
    kinds = {(a["kind"], a["subject"]) for a in found}
    assert kinds == {("rate", "block"), ("degraded", "decisions")}
    calm = Batch(decisions=[Position("d", 1, 0, record(99_999, NOW - 10 * 86_400_000))])
    DecisionStore(engine).write(calm)
    assert monitoring.alerts(engine, settings, now_ms=NOW + 7 * 86_400_000) == []


def test_analytics_count_cases_time_to_close_and_the_kappa_of_escalations(engine: Engine) -> None:
    from fraudguard.panel import cases
    from fraudguard.panel.accounts import Session, User
    from fraudguard.panel.audit import Actor
    from fraudguard.panel.security import Role

    store(engine, [record(i, NOW - HOUR + i, "review", score=0.6) for i in range(4)])
    ana = (Session(User(1, "ana", Role.ANALYST), "", 0), Actor("ana", "analyst"))
    lea = (Session(User(2, "lea", Role.LEAD), "", 0), Actor("lea", "lead"))
    settings = Settings().panel
    leans = [("fraud", "fraud"), ("legit", "fraud"), ("fraud", "fraud")]
    for lean, final in leans:
        case = cases.take_next(engine, *ana)
        cases.decide(engine, settings, *ana, case["id"], "escalate", lean=lean)
        cases.decide(engine, settings, *lea, case["id"], final)
    last = cases.take_next(engine, *ana)
    cases.decide(engine, settings, *ana, last["id"], "legit")
    report = analytics.review_analytics(engine, days=2, now_ms=NOW)
    assert sum(report["opened"]) == 4 and sum(report["closed"]) == 4
    assert report["escalated_pairs"] == 3 and report["kappa"] == 0.0
    assert report["false_positive_rate"]["tier"] == [
        {"key": "default", "closed": 4, "legitimate": 1, "rate": 0.25}
    ]
    assert analytics.to_csv(report, "tier").splitlines()[1] == "default,4,1,0.25"


JOB = "fraudguard-test-m06794e"
"""The job of the recorded scrape (``tests/data/job_metrics.prom``)."""


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The panel's settings: a home of its own, watching the recorded job."""
    return Settings(home=tmp_path, flink=FlinkSettings(job_name=JOB))


def started_on(settings: Settings, port: int, running: bool = False) -> None:
    """Leave what a start of the job leaves: its settings with the metrics port it took, and
    while ``running`` a pid file naming a live process (this one)."""
    job_dir = settings.job_dir
    job_dir.mkdir(parents=True, exist_ok=True)
    started = settings.model_copy(update={"metrics": MetricsSettings(port=port)})
    (job_dir / "settings.json").write_text(started.model_dump_json())
    if running:
        (job_dir / "pid").write_text(str(os.getpid()))


def test_the_job_section_reads_the_endpoint_of_the_job(
    client: Client, settings: Settings, recorded_endpoint: RecordedEndpoint
) -> None:
    assert recorded_endpoint.job_name == JOB
    started_on(settings, recorded_endpoint.port)
    answer = client("vera").get("/api/monitoring/job")
    assert answer.status_code == 200
    health = answer.json()
    assert (health["job"], health["answers"], health["reason"]) == (JOB, True, None)
    assert health["url"] == f"http://127.0.0.1:{recorded_endpoint.port}/metrics"
    m = health["metrics"]
    # reviews are counted by the exploration step, approvals by the decision step
    assert m["decisions"] == {"approve": 313, "review": 187, "block": 0}
    assert (m["degraded"], m["late"], m["explored"]) == (500, 0, 2)
    assert m["dead_letters"] == {"bad_json": 1}
    assert (m["model_versions"], m["threshold_versions"]) == (["rules-v1"], ["builtin-v1"])
    assert m["latency_count"] == 500
    # the payments were produced over a minute before the job started: decided 20 to 60 s late
    assert 20_000 <= m["latency_p50_ms"] <= m["latency_p99_ms"] <= 60_000
    page = client("vera").get("/monitoring")
    assert page.status_code == 200 and 'id="job"' in page.text


def test_a_job_that_is_not_running_is_said_so_and_the_page_still_works(
    client: Client, settings: Settings
) -> None:
    vera = client("vera")
    never_started = vera.get("/api/monitoring/job").json()
    assert never_started["answers"] is False and never_started["metrics"] is None
    assert never_started["reason"].startswith(f"job {JOB} is not running on this machine")
    started_on(settings, free_port())  # stopped since: nothing listens on its port
    stopped = vera.get("/api/monitoring/job").json()
    assert (stopped["answers"], stopped["reason"]) == (
        False,
        f"job {JOB} is not running on this machine",
    )
    assert vera.get("/monitoring").status_code == 200
    assert vera.get("/api/monitoring", params={"hours": 6}).status_code == 200
    assert client("").get("/api/monitoring/job").status_code == 401


def test_a_running_job_whose_endpoint_refuses_or_is_another_jobs_is_said_so(
    settings: Settings, recorded_endpoint: RecordedEndpoint
) -> None:
    started_on(settings, free_port(), running=True)
    refused = monitoring.job_health(settings)
    assert refused["running"] and not refused["answers"]
    assert refused["reason"].startswith("cannot read metrics from http://127.0.0.1:")
    other = settings.model_copy(update={"flink": FlinkSettings(job_name="another-job")})
    started_on(other, recorded_endpoint.port, running=True)  # the port was the recorded job's
    taken = monitoring.job_health(other)
    assert not taken["answers"] and "serves no metric of job another-job" in taken["reason"]


def test_an_endpoint_that_hangs_costs_the_scrape_timeout_and_no_more(
    client: Client, settings: Settings
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as hung:  # connects, never answers
        started_on(settings, hung.getsockname()[1], running=True)
        began = time.monotonic()
        answer = client("vera").get("/api/monitoring/job")
        took = time.monotonic() - began
    assert answer.status_code == 200 and "timed out" in answer.json()["reason"]
    assert monitoring.SCRAPE_TIMEOUT_S <= took < monitoring.SCRAPE_TIMEOUT_S + 1.5
