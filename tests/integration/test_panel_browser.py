"""The panel in a real browser (Debian's Chromium driven by Playwright, the ``browser`` fixture of
conftest.py) against the real stack, the real job and the panel as an operator starts it: a lead
edits a draft and sees the what-if change, proposes it; a second lead approves it and the running
job's decisions carry the new version within 10 s; a viewer cannot publish; the audit page lists
every step; the Monitoring page shows the running job's metrics with the new version in force;
the Models page counts the labels the panel ingested per day and source.

Screenshots of each page go to ``bench/results/screenshots/`` (git-ignored).
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import pytest
from sqlalchemy import func, select

from fraudguard.config import Settings
from fraudguard.generator import GeneratorConfig, PaymentStream, produce_to_kafka
from fraudguard.ops.jobrunner import JobRunner
from fraudguard.panel import tables as t
from fraudguard.panel.db import open_database
from fraudguard.panel.thresholds import CANNOT_PREDICT
from fraudguard.streams.kafka import assigned_consumer

if TYPE_CHECKING:
    from confluent_kafka import Consumer
    from playwright.sync_api import Browser, Page
    from tests.integration.conftest import PanelServer

pytestmark = pytest.mark.integration

SCREENSHOTS = Path(__file__).resolve().parents[2] / "bench" / "results" / "screenshots"
PASSWORD = "correct horse battery staple"
USERS = {"lead-a": ("lead", PASSWORD), "lead-b": ("lead", PASSWORD), "viewer": ("viewer", PASSWORD)}
STORED_PAYMENTS = 3_000
UI_TIMEOUT_MS = 15_000


def pay(settings: Settings, count: int, seed: int, days: float, labels: bool) -> None:
    """``count`` payments of a stream ending now (the oldest first), with their labels on
    ``labels`` as they fall due when ``labels`` (hindsight labels: the panel's pages need
    labelled decisions, not the outcomes service)."""
    config = GeneratorConfig(seed=seed, cards=400, merchants=100, days=days, fraud_rate=0.02,
                             txn_id_prefix=f"b{uuid.uuid4().hex[:6]}-")  # fmt: skip
    stream = PaymentStream(config.ending_at(int(time.time() * 1000)))
    report = produce_to_kafka(settings, stream, limit=count, labels=labels, truth_to="labels")
    assert report.transactions == count and report.failed == 0


def stored_decisions(panel: PanelServer, version: str | None = None) -> int:
    engine = open_database(panel.database_url)
    try:
        query = select(func.count()).select_from(t.decisions)
        if version is not None:
            query = query.where(t.decisions.c.threshold_version == version)
        with engine.connect() as conn:
            return int(conn.execute(query).scalar_one())
    finally:
        engine.dispose()


def wait_until(check: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"{what} within {timeout_s:.0f} s"
        time.sleep(0.5)


def log_in(page: Page, panel: PanelServer, name: str, screenshot: str | None = None) -> None:
    page.goto(f"{panel.url}/login")
    page.fill("#login-name", name)
    page.fill("#login-password", PASSWORD)
    if screenshot:
        page.screenshot(path=SCREENSHOTS / screenshot, full_page=True)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(f"{panel.url}/thresholds")
    page.wait_for_selector("#draft-fields input[data-tier=default][data-key=review]")


def run_what_if(page: Page, review: str) -> dict[str, str]:
    """Set the default tier's review threshold in the form, run the what-if; the summary's
    cells by row and column."""
    page.fill("#draft-fields input[data-tier=default][data-key=review]", review)
    assert f"\nreview: {review}\n" in page.input_value("#draft-yaml")  # the form wrote the YAML
    page.click("#run-whatif")
    page.wait_for_selector("#whatif[aria-busy=false]:not([hidden])")
    return {
        f"{row.get_attribute('data-row')}/{cell.get_attribute('data-col')}": cell.inner_text()
        for row in page.query_selector_all("#whatif-summary tbody tr")
        for cell in row.query_selector_all("td[data-col]")
    }


def post_as_page(page: Page, path: str) -> dict[str, Any]:
    """A JSON POST from the page's own session with its CSRF token, as a script on it would."""
    result: dict[str, Any] = page.evaluate(
        """async (path) => {
            const token = document.querySelector('meta[name="csrf-token"]').content;
            const answer = await fetch(path, {method: "POST", credentials: "same-origin",
                headers: {"Content-Type": "application/json", "X-CSRF-Token": token},
                body: JSON.stringify({note: ""})});
            return {status: answer.status, body: await answer.json()};
        }""",
        path,
    )
    return result


def test_two_leads_publish_a_threshold_change_in_the_browser_and_the_job_follows(
    isolated_settings: Settings,
    tmp_path: Path,
    panel_server: type[PanelServer],
    browser: Browser,
) -> None:
    settings = isolated_settings
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    runner = JobRunner(settings)
    runner.start(detached=True, fresh=True)
    decisions = assigned_consumer(settings, settings.topics.decisions.name, "read_uncommitted")
    try:
        with panel_server(settings, tmp_path, USERS) as panel:
            run_the_scenario(settings, panel, runner, decisions, browser)
    finally:
        decisions.close()
        runner.stop()


def run_the_scenario(
    settings: Settings,
    panel: PanelServer,
    runner: JobRunner,
    decisions: Consumer,
    browser: Browser,
) -> None:
    runner.wait_running(timeout_s=120)
    # Five days of payments, three quarters of them sent, with the labels due by then: the
    # what-if's window (7 days) holds them all.
    pay(settings, STORED_PAYMENTS, seed=7, days=5.0, labels=True)
    wait_until(lambda: stored_decisions(panel) >= STORED_PAYMENTS, 90,
               "the job decided and the panel stored every payment")  # fmt: skip

    lead_a = browser.new_context()
    lead_a.set_default_timeout(UI_TIMEOUT_MS)
    page = lead_a.new_page()
    log_in(page, panel, "lead-a", screenshot="login.png")
    assert page.inner_text("#in-force-version") == "builtin-v1"

    version = f"panel-{uuid.uuid4().hex[:6]}"
    page.fill("#draft-version", version)
    first = run_what_if(page, "0.3")
    second = run_what_if(page, "0.2")
    assert page.inner_text("#whatif-title") == f"{version} against builtin-v1"
    assert first["Review/current"] == second["Review/current"]  # the tiers in force
    assert first["Review/draft"] != second["Review/draft"]
    assert first["Review/change"] != second["Review/change"]
    assert {"Alerts per day", "Precision (labelled)", "Recall (labelled)",
            "Euro of fraud caught"} <= {key.split("/")[0] for key in second}  # fmt: skip
    assert page.is_visible("#chart-histogram svg") and page.is_visible("#chart-alerts svg")
    assert page.is_visible("#cannot-predict")
    assert page.inner_text("#cannot-predict") == CANNOT_PREDICT
    page.screenshot(path=SCREENSHOTS / "thresholds-whatif.png", full_page=True)

    page.fill("#propose-reason", "review more: the fraud ring moved to smaller amounts")
    page.click("#propose")
    page.wait_for_selector("#message:has-text('proposed')")
    proposal = page.get_attribute("#drafts tr:has(td.status-proposed)", "data-draft")
    assert proposal is not None
    # Four eyes: the author's own Approve button is disabled, and the server refuses too.
    assert page.is_disabled(f"[data-approve='{proposal}']")
    own = post_as_page(page, f"/api/thresholds/drafts/{proposal}/approve")
    assert own["status"] == 403 and "four eyes" in own["body"]["message"], own
    page.click("#logout")
    page.wait_for_url(f"{panel.url}/login")

    viewer = browser.new_context()
    viewer.set_default_timeout(UI_TIMEOUT_MS)
    seen = viewer.new_page()
    log_in(seen, panel, "viewer")
    seen.wait_for_selector(f"#drafts tr[data-draft='{proposal}'] td.status-proposed")
    assert seen.locator("[data-approve]").count() == 0
    refused = post_as_page(seen, f"/api/thresholds/drafts/{proposal}/approve")
    assert refused["status"] == 403, refused
    assert set(refused["body"]) == {"error", "message"}
    viewer.close()

    log_in(page, panel, "lead-b")
    approve = page.locator(f"[data-approve='{proposal}']")
    approve.wait_for()
    page.click(f"#drafts tr[data-draft='{proposal}'] summary")  # what the approver publishes
    assert "\nreview: 0.2\n" in page.inner_text(f"[data-yaml='{proposal}']")
    page.screenshot(path=SCREENSHOTS / "proposals.png", full_page=True)
    assert stored_decisions(panel, version) == 0
    approved_at, approved_at_ms = time.monotonic(), int(time.time() * 1000)
    approve.click()
    page.wait_for_selector(f"#message:has-text('Version {version} published')")
    # Keep paying while the change travels; the decisions are read as the job writes them.
    reached_s = None
    seed = 100
    while reached_s is None and time.monotonic() - approved_at < 30:
        seed += 1
        # Half a day: a shorter stream ending at night may hold fewer than 20 payments.
        pay(settings, 20, seed=seed, days=0.5, labels=False)
        for message in decisions.consume(num_messages=10_000, timeout=0.2):
            value = message.value()
            if message.error() or value is None or reached_s is not None:
                continue
            if orjson.loads(value)["threshold_version"] == version:
                reached_s = time.monotonic() - approved_at
    assert reached_s is not None, "the job's decisions never carried the new version"
    print(f"the job's decisions carried {version} {reached_s:.1f} s after the approval")
    assert reached_s <= 10

    # The page shows when the job's decisions first carried it, once the store has them.
    wait_until(lambda: stored_decisions(panel, version) > 0, 60,
               "the panel stored a decision with the new version")  # fmt: skip
    page.reload()
    first_decision = page.locator(f"[data-first-decision='{version}']")
    first_decision.wait_for()
    page.wait_for_function(
        "(v) => document.querySelector(`[data-first-decision='${v}']`).textContent !== '—'",
        arg=version,
    )
    assert page.inner_text("#in-force-version") == version
    shown = datetime.strptime(first_decision.inner_text(), "%Y-%m-%d %H:%M:%S UTC+00:00")
    first_at_ms = shown.replace(tzinfo=UTC).timestamp() * 1000
    assert approved_at_ms - 1000 <= first_at_ms <= approved_at_ms + reached_s * 1000 + 1000

    page.goto(f"{panel.url}/audit")
    page.wait_for_selector("#audit tr[data-action='thresholds.publish']")
    rows = [
        (row.get_attribute("data-action"), row.query_selector_all("td")[1].inner_text())
        for row in page.query_selector_all("#audit tbody tr")
    ]
    for step in [("login", "lead-a"), ("draft.create", "lead-a"), ("draft.propose", "lead-a"),
                 ("logout", "lead-a"), ("login", "viewer"), ("login", "lead-b"),
                 ("thresholds.publish", "lead-b")]:  # fmt: skip
        assert step in rows, f"{step} not in the audit page: {rows}"
    page.screenshot(path=SCREENSHOTS / "audit.png", full_page=True)

    # The Monitoring page's Job section reads the running job's metrics endpoint.
    page.goto(f"{panel.url}/monitoring")
    page.wait_for_selector("#job[aria-busy=false]")
    assert page.get_attribute("#job-state", "data-answers") == "true", page.inner_text("#job-state")
    assert version in page.inner_text("#job-versions [data-in-force=thresholds]")
    page.screenshot(path=SCREENSHOTS / "monitoring.png", full_page=True)

    # The Models page's learning loop: the hindsight labels the panel stored, per day and source.
    engine = open_database(panel.database_url)
    try:
        with engine.connect() as conn:
            counted = conn.execute(select(func.count()).select_from(t.labels))
            stored_labels = int(counted.scalar_one())
    finally:
        engine.dispose()
    assert stored_labels > 0
    page.goto(f"{panel.url}/models")
    page.wait_for_selector("#loop-card[aria-busy=false]")
    total = page.inner_text("#labels-per-day tr.total td:last-child")  # fraud / legit
    assert sum(int(n.replace(",", "")) for n in total.split(" / ")) == stored_labels, total
    assert page.locator("#labels-per-day tbody tr[data-day]").count() == 30
    assert "No model was retrained yet" in page.inner_text("#retrain-line")
    page.screenshot(path=SCREENSHOTS / "models.png", full_page=True)
    lead_a.close()
