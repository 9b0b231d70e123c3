"""The review side of the panel in a real browser (Debian's Chromium, Playwright) against the
real stack, the real job scoring with a registered champion, and the panel as an operator
starts it:

- an analyst works five cases: takes the next case from the queue and from a case page, gives
  two fraud and two legitimate verdicts, claims a fifth case with the queue's checkboxes and
  escalates it with a lean; a lead settles it in the lead's own browser;
- the five labels are on the labels topic, read_committed, exactly once, with their
  provenance; ``fraudguard reranker learn --once`` reads all five and sends none to labels.dlq;
- a lead promotes a second model and rolls back on the Models page, and the job's decisions
  carry the new model, then the old one again;
- a viewer opens every page, sees no action, and an action endpoint answers 403.

Screenshots go to ``bench/results/screenshots/`` (git-ignored).
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import pytest
from sqlalchemy import select

from fraudguard.config import Settings
from fraudguard.control.changes import publish_tiers
from fraudguard.decision.tiers import ThresholdTiers
from fraudguard.models.registry import ModelRegistry
from fraudguard.ops.jobrunner import JobRunner
from fraudguard.panel import tables as t
from fraudguard.panel.db import open_database
from fraudguard.streams.kafka import read_topic

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page
    from tests.integration.conftest import LiveDecisions, PanelServer

    from fraudguard.training.data import LabelledTable

pytestmark = pytest.mark.integration

SCREENSHOTS = Path(__file__).resolve().parents[2] / "bench" / "results" / "screenshots"
PASSWORD = "correct horse battery staple"
USERS = {
    "ana": ("analyst", PASSWORD),
    "lea": ("lead", PASSWORD),
    "adam": ("admin", PASSWORD),
    "vera": ("viewer", PASSWORD),
}
UI_TIMEOUT_MS = 15_000
CASES_WANTED = 30
VERDICTS = ["fraud", "legit", "fraud", "legit"]


def test_analysts_turn_cases_into_labels_a_lead_switches_models_and_a_viewer_only_looks(
    isolated_settings: Settings,
    tmp_path: Path,
    panel_server: type[PanelServer],
    browser: Browser,
    register_model: Callable[..., None],
    live_decisions: type[LiveDecisions],
    history: LabelledTable,
) -> None:
    settings = isolated_settings
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    registry = ModelRegistry.from_settings(settings)
    first = trained_model(settings, registry, history)
    second = f"m-b-{uuid.uuid4().hex[:6]}"
    register_model(registry, second, 2)
    registry.promote(first)
    # Strict tiers, published before the job starts (it reads control from the beginning):
    # half the payments go to review, so there are cases to work.
    publish_tiers(settings, ThresholdTiers(f"review-half-{uuid.uuid4().hex[:6]}", 0.001, 0.99))
    runner = JobRunner(settings)
    runner.start(detached=True, fresh=True)
    decisions = live_decisions(settings, "read_uncommitted")
    try:
        with panel_server(settings, tmp_path, USERS) as panel:
            runner.wait_running(timeout_s=120)
            started = time.monotonic()
            decisions.pay(200)
            wait_until(lambda: len(open_cases(panel)) >= CASES_WANTED, 90,
                       f"the panel opened {CASES_WANTED} cases")  # fmt: skip
            print(f"cases opened {time.monotonic() - started:.1f} s after the payments")
            worked = work_five_cases(panel, browser, first)
            check_the_labels(settings, panel, worked)
            check_the_learner_accepts_them(settings, panel)
            switch_models_from_the_models_page(panel, browser, decisions, first, second)
            a_viewer_only_looks(panel, browser, case_id=worked[-1][0])
    finally:
        decisions.close()
        runner.stop()


def work_five_cases(panel: PanelServer, browser: Browser, model: str) -> list[tuple[int, str]]:
    """The analyst's and the lead's clicks; ``(case id, final verdict)`` of each case."""
    analyst = browser.new_context(viewport={"width": 1360, "height": 900})
    analyst.set_default_timeout(UI_TIMEOUT_MS)
    page = analyst.new_page()
    log_in(page, panel, "ana", "/cases")
    page.wait_for_selector("#queue tbody tr[data-case]")
    assert page.locator("#queue tbody tr[data-case]").count() >= CASES_WANTED
    page.screenshot(path=SCREENSHOTS / "review-queue.png", full_page=True)

    worked: list[tuple[int, str]] = []
    page.click("#take-next")
    for i, verdict in enumerate(VERDICTS):
        if i:
            page.click("#case-next")
        page.wait_for_url(re.compile(rf"/cases/(?!{worked[-1][0] if worked else 0}$)\d+$"))
        case_id = open_case_page(page)
        assert page.inner_text("#case-status") == "open · ana"  # taken by "Take next case"
        if i == 0:
            assert page.locator("#contributions tbody tr[data-feature]").count() == 15
            assert page.is_visible("#contribution-chart svg")
            assert f"Model {model}:" in page.inner_text("#why-text")
            assert page.locator("#recent tbody tr.current").count() == 1
            # The explanation adds up to the score the job gave: its base score's logit.
            view = page.request.get(f"{panel.url}/api/cases/{case_id}").json()
            base = view["decision"]["base_score"]
            assert abs(view["contributions"]["logit"] - math.log(base / (1 - base))) < 1e-4
            page.screenshot(path=SCREENSHOTS / "review-case.png", full_page=True)
            page.dblclick(f"#verdict-{verdict}")  # a double click still gives one label
        else:
            page.click(f"#verdict-{verdict}")
        page.wait_for_selector("#case[data-status=closed][aria-busy=false]")
        worked.append((case_id, verdict))

    # The fifth: claimed with a checkbox in the queue, found under "my cases", escalated.
    page.goto(f"{panel.url}/cases?assignee=unassigned&status=open")
    row = page.locator("#queue tbody tr[data-case]").first
    fifth = int(row.get_attribute("data-case") or 0)
    row.locator("[data-select]").check()
    page.click("[data-bulk=claim]")
    page.wait_for_selector("#message:has-text('claim: 1 done.')")
    page.select_option("#f-assignee", "me")
    page.click("#queue-filters button[type=submit]")
    page.wait_for_selector(f"#queue tbody tr[data-case='{fifth}']:only-child")
    page.click(f"#queue tbody tr[data-case='{fifth}'] a.case-link")
    assert open_case_page(page) == fifth
    page.select_option("#escalate-lean", "fraud")
    page.fill("#verdict-note", "card used in two countries within the hour")
    page.click("#verdict-escalate")
    page.wait_for_selector("#case[data-status=escalated][aria-busy=false]")
    assert page.is_hidden("#lead-settle")  # an analyst does not settle
    analyst.close()

    lead = browser.new_context(viewport={"width": 1360, "height": 900})
    lead.set_default_timeout(UI_TIMEOUT_MS)
    page = lead.new_page()
    log_in(page, panel, "lea", "/cases?status=escalated")
    page.click(f"#queue tbody tr[data-case='{fifth}'] a.case-link")
    open_case_page(page)
    assert "ana escalated it, leaning fraud" in page.inner_text("#settle-text")
    page.click("#settle-legit")
    page.wait_for_selector("#case[data-status=closed][aria-busy=false]")
    assert page.is_visible("#lead-correct")  # a lead may correct a closed case
    worked.append((fifth, "legit"))
    # The label comes back through the labels topic into the store, with its provenance.
    settled_label = "#case-labels tr[data-label-id^='rv-'] td:text-is('lea')"
    wait_until(lambda: reload_shows(page, settled_label), 30, "the settled case shows its label")
    page.screenshot(path=SCREENSHOTS / "review-case-settled.png", full_page=True)
    lead.close()
    return worked


def check_the_labels(settings: Settings, panel: PanelServer, worked: list[tuple[int, str]]) -> None:
    """Five labels, read_committed, each once, with the provenance of its case."""
    with_panel = {row["id"]: row for row in cases_by_id(panel, [c for c, _ in worked])}
    wait_until(lambda: len(labels_on_topic(settings)) >= 5, 10, "five labels on the topic")
    time.sleep(1)  # anything sent twice would be on the topic by now
    labels = labels_on_topic(settings)
    assert len(labels) == 5, labels
    by_case = {label["case_id"]: label for label in labels}
    assert sorted(by_case) == sorted(c for c, _ in worked)
    for case_id, verdict in worked:
        label, case = by_case[case_id], with_panel[case_id]
        assert label["label"] == verdict == case["final_verdict"]
        assert (label["txn_id"], label["card_id"]) == (case["txn_id"], case["card_id"])
        assert label["source"] == "review"
        assert label["analyst"] == ("lea" if case_id == worked[-1][0] else "ana")
        assert label["guideline_version"] == settings.panel.guideline_version
        assert label["priority"] == round(case["priority"], 6)
        assert label["label_id"] == case["label_id"]
        assert "supersedes" not in label


def check_the_learner_accepts_them(settings: Settings, panel: PanelServer) -> None:
    """``fraudguard reranker learn --once`` on the test's topics, as an operator runs it."""
    done = subprocess.run(
        [sys.executable, "-m", "fraudguard", "reranker", "learn", "--once", "--max-wait-s", "1"],
        env=panel.env, capture_output=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    report = json.loads(done.stdout.decode().strip().splitlines()[-1])
    print(f"reranker learn --once: {report}")
    assert report["labels_read"] == 5
    refused = {k: report[k] for k in ("labels_invalid", "labels_unmatched", "labels_dead")}
    assert refused == {"labels_invalid": 0, "labels_unmatched": 0, "labels_dead": 0}
    assert list(read_topic(settings, settings.topics.labels_dlq.name, idle_timeout_s=1.0)) == []


def switch_models_from_the_models_page(
    panel: PanelServer, browser: Browser, decisions: LiveDecisions, first: str, second: str
) -> None:
    lead = browser.new_context(viewport={"width": 1360, "height": 900})
    lead.set_default_timeout(UI_TIMEOUT_MS)
    page = lead.new_page()
    log_in(page, panel, "lea", "/models")
    page.wait_for_selector("#models-card[aria-busy=false]")
    assert page.inner_text("#champion") == first
    assert page.locator(f"tr[data-model='{first}'] .badge").inner_text() == "champion"
    curve = page.locator(f"#pr-{first} img")
    curve.scroll_into_view_if_needed()  # loaded lazily
    page.wait_for_function(
        "(img) => img.complete && img.naturalWidth > 0", arg=curve.element_handle()
    )

    for to, click in ((second, f"[data-promote='{second}']"), (first, "#model-rollback")):
        page.fill("#model-reason", f"acceptance test: {to} now")
        clicked_ms = int(time.time() * 1000)
        page.click(click)
        page.wait_for_selector(f"#message:has-text('{to} is the champion')")
        page.wait_for_selector(f"tr[data-model='{to}'].champion")
        # Decisions made after the click, so none the job made before it is counted.
        took, _ = decisions.pay_until(
            lambda r, to=to, at=clicked_ms: r["model_version"] == to and r["decided_at_ms"] > at,
            timeout_s=30,
            batch=40,
        )
        print(f"the job's decisions carried {to} {took:.1f} s after the click")
    page.screenshot(path=SCREENSHOTS / "models.png", full_page=True)
    audit = page.evaluate("fetch('/api/audit?action=model.').then((r) => r.json())")
    assert [(a["action"], a["actor"]) for a in audit] == [
        ("model.rollback", "lea"),
        ("model.promote", "lea"),
    ]
    assert audit[0]["after"]["reason"] == f"acceptance test: {first} now"
    lead.close()


def a_viewer_only_looks(panel: PanelServer, browser: Browser, case_id: int) -> None:
    viewer = browser.new_context(viewport={"width": 1360, "height": 900})
    viewer.set_default_timeout(UI_TIMEOUT_MS)
    page = viewer.new_page()
    log_in(page, panel, "vera", "/cases")
    page.wait_for_selector("#queue[aria-busy=false] tbody tr[data-case]")
    assert page.is_hidden("#take-next") and page.is_hidden(".bulk")
    assert page.locator("[data-select]").count() == 0

    page.goto(f"{panel.url}/cases/{case_id}")
    assert open_case_page(page) == case_id
    assert page.is_hidden("#case-actions") and page.is_hidden("#case-next")

    page.goto(f"{panel.url}/models")
    page.wait_for_selector("#models-card[aria-busy=false]")
    assert page.locator("[data-promote], [data-reranker-rollback]").count() == 0
    assert page.is_hidden("#model-rollback") and page.is_hidden("#model-reason")

    page.goto(f"{panel.url}/monitoring")
    page.wait_for_selector("#overview[aria-busy=false]")
    page.wait_for_selector("#reviews[aria-busy=false]")
    assert page.is_visible("#outcomes-chart svg") and page.is_visible("#reviews-chart svg")
    assert page.inner_text("[data-tile='cases closed'] .tile-value") == "5"
    assert page.locator("#drift tr[data-feature=score]").count() == 1  # the reference is there
    page.screenshot(path=SCREENSHOTS / "monitoring.png", full_page=True)

    still_open = open_cases(panel)[0]
    for path, payload in ((f"/api/cases/{still_open}/claim", {}),
                          ("/api/models/promote", {"version": "x", "reason": "x"})):  # fmt: skip
        answer = post_from(page, panel, path, payload)
        assert answer.status == 403, (path, answer.text())
        assert set(answer.json()) == {"error", "message"}
    viewer.close()


# --- helpers -------------------------------------------------------------------------------
def trained_model(settings: Settings, registry: ModelRegistry, history: LabelledTable) -> str:
    """A small model trained on generated history and registered as ``fraudguard train`` does
    (PR curve, metrics, reference distributions): its contributions are spread over features
    the way a real model's are. Some 3 s."""
    from fraudguard.training.booster import BoosterParams
    from fraudguard.training.pipeline import TrainConfig, train
    from fraudguard.training.register import register_result

    fast = BoosterParams(n_estimators=30, early_stopping_rounds=10)
    config = TrainConfig(folds=2, weights=(1.0, 10.0), compare=False, params=fast)
    result = train(history, config, progress=False)
    entry = register_result(registry, result, {"generated": "tests/conftest.py history"},
                            settings.project_root)  # fmt: skip
    return entry.metadata.version


def log_in(page: Page, panel: PanelServer, name: str, then: str) -> None:
    page.goto(f"{panel.url}/login")
    page.fill("#login-name", name)
    page.fill("#login-password", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(f"{panel.url}/thresholds")
    page.goto(f"{panel.url}{then}")


def open_case_page(page: Page) -> int:
    """Wait until the case page shows its case; its id."""
    page.wait_for_selector("#case[aria-busy=false][data-status]")
    return int(page.get_attribute("#case", "data-case") or 0)


def reload_shows(page: Page, selector: str) -> bool:
    page.reload()
    open_case_page(page)
    return page.locator(selector).count() > 0


def post_from(page: Page, panel: PanelServer, path: str, payload: dict[str, Any]) -> Any:
    """A POST with the page's session and CSRF token (Playwright's request context shares the
    page's cookies)."""
    token = page.get_attribute('meta[name="csrf-token"]', "content") or ""
    return page.request.post(f"{panel.url}{path}", data=payload, headers={"X-CSRF-Token": token})


def open_cases(panel: PanelServer) -> list[int]:
    engine = open_database(panel.database_url)
    try:
        with engine.connect() as conn:
            c = t.cases.c
            query = select(c.id).where(c.status == "open").order_by(c.id)
            return list(conn.execute(query).scalars())
    finally:
        engine.dispose()


def cases_by_id(panel: PanelServer, ids: list[int]) -> list[dict[str, Any]]:
    engine = open_database(panel.database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(t.cases).where(t.cases.c.id.in_(ids))).mappings()
            return [dict(r) for r in rows]
    finally:
        engine.dispose()


def labels_on_topic(settings: Settings) -> list[dict[str, Any]]:
    messages = read_topic(settings, settings.topics.labels.name, idle_timeout_s=0.5)
    return [orjson.loads(m.value()) for m in messages]


def wait_until(check: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"{what} within {timeout_s:.0f} s"
        time.sleep(0.5)
