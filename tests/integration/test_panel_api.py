"""The panel's API, generated from its own OpenAPI schema (schemathesis) against the panel as an
operator starts it, on the real Kafka of the stack: no input makes an endpoint answer 5xx, and
no endpoint but login answers without a session."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from fraudguard.config import Settings

if TYPE_CHECKING:
    from tests.integration.conftest import PanelServer

pytestmark = pytest.mark.integration

ADMIN, LEAD = "fuzz-admin", "fuzz-lead"
PASSWORD = "correct horse battery staple"
V2 = 'version: "fuzz-v2"\nreview: 0.3\nblock: 0.7\n'


def logged_in(panel: PanelServer, name: str) -> requests.Session:
    """A client with ``name``'s session cookie and CSRF header, as the panel's page has."""
    http = requests.Session()
    answer = http.post(f"{panel.url}/api/session", json={"name": name, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    http.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
    return http


@pytest.fixture(scope="module")
def panel(
    stack_settings: Settings,
    tmp_path_factory: pytest.TempPathFactory,
    panel_server: type[PanelServer],
) -> Iterator[PanelServer]:
    """One panel for the module (on topics of its own) with an admin and a lead. Generated
    logins fail by the hundred, so the limit on failed logins is lifted (its 429 is a unit
    test's business)."""
    from fraudguard.stack import create_topics, delete_topics

    settings = stack_settings.isolated(f"api{uuid.uuid4().hex[:8]}", job_prefix="fraudguard-test")
    create_topics(settings)
    users = {ADMIN: ("admin", PASSWORD), LEAD: ("lead", PASSWORD)}
    folder = tmp_path_factory.mktemp("panel")
    try:
        with panel_server(settings, folder, users, login_attempts="1000000") as server:
            # A proposal of the lead's, so generated approvals, rejections and edits can meet
            # one (and an approval publishes on the real control topic).
            lead = logged_in(server, LEAD)
            draft = lead.post(f"{server.url}/api/thresholds/drafts", json={"yaml": V2})
            assert draft.status_code == 201, draft.text
            proposed = lead.post(f"{server.url}/api/thresholds/drafts/{draft.json()['id']}"
                                 "/propose", json={"reason": "r"})  # fmt: skip
            assert proposed.status_code == 200, proposed.text
            yield server
    finally:
        delete_topics(settings, [spec.name for spec in settings.topics.all()])


@pytest.fixture(scope="module")
def admin(panel: PanelServer) -> requests.Session:
    return logged_in(panel, ADMIN)


def panel_openapi() -> dict[str, Any]:
    """The schema the panel serves at /openapi.json, read from the application itself so the
    operations are known when tests are collected (one test per operation)."""
    from sqlalchemy import create_engine

    from fraudguard.panel.app import create_app

    return create_app(Settings(), create_engine("sqlite://")).openapi()


schema = schemathesis.openapi.from_dict(panel_openapi()).exclude(
    # Logging out would end the session every other generated call runs in.
    method="DELETE",
    path="/api/session",
)


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_no_generated_input_makes_an_endpoint_answer_5xx(
    case: schemathesis.Case, panel: PanelServer, admin: requests.Session
) -> None:
    answer = case.call(base_url=panel.url, session=admin)
    case.validate_response(answer, checks=[not_a_server_error])
    if (case.method, case.path) != ("POST", "/api/session"):  # a generated login may fail
        assert answer.status_code != 401, "the admin's session ended: what follows tests nothing"


def minimal_request(spec: dict[str, Any], operation: dict[str, Any]) -> Any:
    """A body that looks valid for ``operation``: every required field of its JSON body with a
    plain value of its type (None without a body)."""
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if content is None:
        return None
    body_schema = content["schema"]
    if "$ref" in body_schema:
        body_schema = spec["components"]["schemas"][body_schema["$ref"].rsplit("/", 1)[-1]]
    body = {}
    for name in body_schema.get("required", []):
        field = body_schema["properties"][name]
        if "$ref" in field:  # an enum, such as Role
            field = spec["components"]["schemas"][field["$ref"].rsplit("/", 1)[-1]]
        if "enum" in field:
            body[name] = field["enum"][0]
        elif field.get("type") == "integer":
            body[name] = 1
        elif field.get("type") == "boolean":
            body[name] = False
        else:
            body[name] = "a-plain-value-1234"
    return body


def test_no_endpoint_but_login_answers_without_a_session(panel: PanelServer) -> None:
    spec = requests.get(f"{panel.url}/openapi.json", timeout=10).json()
    assert spec == panel_openapi()  # what the generated tests were made from
    called = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if (method, path) == ("post", "/api/session"):
                continue
            url = panel.url + re.sub(r"\{[^}]+\}", "1", path)
            answer = requests.request(
                method, url, json=minimal_request(spec, operation), timeout=30
            )
            assert answer.status_code == 401, f"{method.upper()} {path}: {answer.status_code}"
            assert set(answer.json()) == {"error", "message"}, answer.text
            called.append(f"{method.upper()} {path}")
    # Every router is in the schema: a missing one would pass this test unseen.
    for expected in ("GET /api/session", "GET /api/users", "POST /api/thresholds/drafts",
                     "POST /api/thresholds/drafts/{draft_id}/approve", "GET /api/audit.csv",
                     "GET /api/decisions/{txn_id}", "GET /api/store"):  # fmt: skip
        assert expected in called
    print(f"{len(called)} operations answer 401 without a session")
