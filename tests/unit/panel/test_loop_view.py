"""The Models page's learning loop: labels per day and source counted on a real SQLite store
against a constructed set of labels, and the newest retrain read from a constructed registry
with its report; `fraudguard model status` prints the same retrain."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from sqlalchemy import Engine

from fraudguard.cli.model import model
from fraudguard.config import PanelSettings, Settings
from fraudguard.features import FEATURE_SET_VERSION
from fraudguard.models.metadata import ModelMetadata
from fraudguard.models.registry import ModelRegistry
from fraudguard.panel.loop import labels_per_day
from fraudguard.panel.store import Batch, DecisionStore, Position
from fraudguard.training.retrain_report import REPORT_JSON, write_report
from fraudguard.wire.transactions import format_event_time

DAY_MS = 86_400_000
NOW = 20_000 * DAY_MS + 15 * 3_600_000
"""15:00 UTC on day 20,000: today began 15 hours ago."""
TODAY = 20_000 * DAY_MS


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(panel=PanelSettings(login_attempts=3), models_root=tmp_path / "models")


def label(n: int, verdict: str, reported_ms: int, source: str) -> Position:
    record = {"txn_id": f"t{n}", "label": verdict, "reported_at": format_event_time(reported_ms),
              "source": source}  # fmt: skip
    return Position("labels", 0, n, orjson.dumps(record))


# (day before today, hour, source, label, how many)
LABELS = [
    (0, 1, "chargeback", "fraud", 3),
    (0, 14, "review", "legit", 2),
    (0, 14, "review", "fraud", 1),
    (1, 23, "chargeback", "fraud", 1),  # 23:59:59.999 is still yesterday
    (2, 0, "investigation", "legit", 4),  # midnight opens the day
    (3, 12, "chargeback", "fraud", 7),  # before a 3-day window
]


def store_labels(engine: Engine) -> None:
    positions, n = [], 0
    for back, hour, source, verdict, count in LABELS:
        at = TODAY - back * DAY_MS + hour * 3_600_000 + (3_599_999 if hour == 23 else 0)
        for _ in range(count):
            positions.append(label(n, verdict, at, source))
            n += 1
    DecisionStore(engine).write(Batch(labels=positions))


def test_labels_are_counted_per_utc_day_and_source_with_fraud_and_legit_apart(
    engine: Engine,
) -> None:
    store_labels(engine)
    view = labels_per_day(engine, days=3, now_ms=NOW)
    assert (view["from_ms"], view["until_ms"]) == (TODAY - 2 * DAY_MS, TODAY + DAY_MS)
    assert view["sources"] == ["chargeback", "investigation", "review"]
    none = {"fraud": 0, "legit": 0}
    assert view["per_day"] == [
        {"day_ms": TODAY - 2 * DAY_MS, "sources": {
            "chargeback": none, "investigation": {"fraud": 0, "legit": 4}, "review": none}},
        {"day_ms": TODAY - DAY_MS, "sources": {
            "chargeback": {"fraud": 1, "legit": 0}, "investigation": none, "review": none}},
        {"day_ms": TODAY, "sources": {
            "chargeback": {"fraud": 3, "legit": 0}, "investigation": none,
            "review": {"fraud": 1, "legit": 2}}},
    ]  # fmt: skip
    assert view["totals"] == {"chargeback": {"fraud": 4, "legit": 0},
                              "investigation": {"fraud": 0, "legit": 4},
                              "review": {"fraud": 1, "legit": 2}}  # fmt: skip
    wider = labels_per_day(engine, days=4, now_ms=NOW)
    assert wider["totals"]["chargeback"] == {"fraud": 11, "legit": 0}
    assert len(wider["per_day"]) == 4


def test_days_without_labels_are_zeros_and_no_source_is_invented(engine: Engine) -> None:
    view = labels_per_day(engine, days=2, now_ms=NOW)
    assert view["sources"] == [] and view["totals"] == {}
    assert [d["sources"] for d in view["per_day"]] == [{}, {}]


def test_the_count_reads_the_covering_index_not_the_table(engine: Engine) -> None:
    plan = " ".join(
        str(row[-1])
        for row in engine.connect().exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT reported_at_ms - reported_at_ms % 86400000 AS d, source, "
            "label, count(*) FROM labels WHERE reported_at_ms >= 0 AND reported_at_ms < 1 "
            "GROUP BY d, source, label"
        )
    )
    assert "COVERING INDEX labels_reported" in plan, plan


def test_the_api_serves_the_labels_to_every_role_and_checks_its_input(
    client, engine: Engine
) -> None:  # type: ignore[no-untyped-def]
    now = int(time.time() * 1000)
    DecisionStore(engine).write(Batch(labels=[label(0, "fraud", now, "chargeback")]))
    answer = client("vera").get("/api/models/labels?days=7")
    assert answer.status_code == 200
    view = answer.json()
    assert view["days"] == 7 and view["totals"] == {"chargeback": {"fraud": 1, "legit": 0}}
    assert client("vera").get("/api/models/labels").json()["days"] == 30
    refused = client("vera").get("/api/models/labels?days=0")
    assert refused.status_code == 422 and "Traceback" not in refused.text
    assert client("").get("/api/models/labels").status_code == 401


def report(winner: str, ap: dict[str, float | None]) -> dict[str, Any]:
    """A retraining report as `fraudguard retrain` writes it, its figures chosen here."""
    measures = {
        name: {"unbiased_sample": {"rows": 500, "frauds": 20, "average_precision": value,
                                   "recall_at_budget": 0.5}}
        for name, value in ap.items()
    }  # fmt: skip
    naive, weighted = ap["naive"], ap["weighted"]
    diff = None if naive is None or weighted is None else round(weighted - naive, 6)
    return {
        "version": "", "winner": winner, "cutoff_ms": NOW, "test_from_ms": NOW - 7 * DAY_MS,
        "label_window_ms": 60 * DAY_MS, "blocked_policy": "drop", "review_budget_per_day": 100,
        "training_set": {"labelled": 1_200, "matured": 8_800}, "training_rows": 10_000,
        "training_frauds": 140, "test_decisions": 3_000, "unbiased_sample_decisions": 500,
        "unbiased_sample_labels": "bank labels", "measures": measures,
        "weighted_minus_naive": {"unbiased_sample": {"average_precision": diff,
                                                     "recall_at_budget": 0.0}},
    }  # fmt: skip


def register(
    settings: Settings, version: str, day: int, retrain: str | None, body: dict[str, Any] | None
) -> None:
    meta = ModelMetadata(
        version=version, created_at=f"2026-12-0{day}T08:00:00Z", framework="xgboost",
        feature_set_version=FEATURE_SET_VERSION, feature_names=["a"], scale_pos_weight=10.0,
        code_version="t", training_data={"retrain": retrain} if retrain else {"rows": 5},
    )  # fmt: skip

    def attach(folder: Path) -> None:
        if body is not None:
            write_report({**body, "version": version}, folder)

    ModelRegistry.from_settings(settings).register(b"m", meta, attach=attach)


def test_the_newest_retrain_shows_its_cutoff_training_set_winner_and_margin(
    client, settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    viewer = client("vera")
    assert viewer.get("/api/models/retrain").json() == {"retrain": None}
    register(settings, "r1", 1, "naive", report("naive", {"naive": 0.3, "weighted": 0.2}))
    register(settings, "r2", 2, "weighted", report("weighted", {"naive": 0.31, "weighted": 0.42}))
    register(settings, "t3", 3, None, None)  # trained by `fraudguard train`: not a retrain
    ModelRegistry.from_settings(settings).set_challenger("r2")
    r = viewer.get("/api/models/retrain").json()["retrain"]
    assert (r["version"], r["winner"]) == ("r2", "weighted")
    assert r["created_at"] == "2026-12-02T08:00:00Z"
    assert r["winner_margin"] == {"average_precision": 0.11, "recall_at_budget": 0.0}
    assert (r["cutoff_ms"], r["test_from_ms"]) == (NOW, NOW - 7 * DAY_MS)
    assert (r["training_rows"], r["training_frauds"]) == (10_000, 140)
    assert r["measures"]["weighted"]["unbiased_sample"]["average_precision"] == 0.42
    assert (r["challenger"], r["champion"], r["report_error"]) == (True, False, None)


def test_a_naive_winner_is_ahead_by_the_weighted_models_shortfall(
    client, settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    register(settings, "r1", 1, "naive", report("naive", {"naive": 0.3, "weighted": 0.25}))
    ModelRegistry.from_settings(settings).promote("r1")
    r = client("vera").get("/api/models/retrain").json()["retrain"]
    assert r["winner_margin"]["average_precision"] == 0.05 and r["champion"]


def test_a_retrain_without_a_readable_report_is_shown_and_says_why(
    client, settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    register(settings, "r1", 1, "weighted", None)
    r = client("vera").get("/api/models/retrain").json()["retrain"]
    assert (r["version"], r["winner"], r["winner_margin"]) == ("r1", "weighted", None)
    assert r["report_error"] == f"r1 has no {REPORT_JSON}"
    (settings.models_dir / "r1" / REPORT_JSON).write_text('{"winner": "weighted"}')
    r = client("vera").get("/api/models/retrain").json()["retrain"]
    assert r["report_error"] == f"the {REPORT_JSON} of r1 lacks 'cutoff_ms'"


def test_the_page_has_the_loop_sections(client) -> None:  # type: ignore[no-untyped-def]
    page = client("vera").get("/models").text
    assert 'id="loop-card"' in page and 'id="labels-per-day"' in page and 'id="retrain"' in page


def test_model_status_prints_the_pointer_and_the_newest_retrain(settings: Settings) -> None:
    register(settings, "r2", 2, "weighted", report("weighted", {"naive": 0.31, "weighted": 0.42}))
    ModelRegistry.from_settings(settings).set_challenger("r2")
    result = CliRunner().invoke(model, ["status"], obj=settings)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "champion:   none (the rules decide)"
    assert lines[1].startswith("challenger: r2 since ")
    assert lines[2] == "automatic changes: may act"
    assert lines[3] == "last retrain: r2 at 2026-12-02T08:00:00Z, weighted won"
    assert lines[4] == (
        "  by +0.1100 average precision on the unbiased sample (recall at budget +0.0000)"
    )
    assert "trained on 10,000 decisions, 140 known frauds" in lines[5]


def test_model_status_without_a_retrain_says_how_to_make_one(settings: Settings) -> None:
    result = CliRunner().invoke(model, ["status"], obj=settings)
    assert result.exit_code == 0 and "last retrain: none (`fraudguard retrain`)" in result.output
