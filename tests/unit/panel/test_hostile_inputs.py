"""Inputs the schema fuzzer (tests/integration/test_panel_api.py) and hand-made hostile requests
found answered with a 500: each is now a 4xx naming the problem."""

from __future__ import annotations

import pytest

from fraudguard.panel.schemas import MAX_BIGINT, MAX_ROW_ID

DRAFT_CALLS = [
    ("GET", "", None),
    ("PUT", "", {"yaml": "version: v\nreview: 0.3\nblock: 0.7\n"}),
    ("POST", "/propose", {"reason": "r"}),
    ("POST", "/approve", {}),
    ("POST", "/reject", {}),
]


@pytest.mark.parametrize(("method", "suffix", "payload"), DRAFT_CALLS)
def test_a_draft_id_beyond_the_database_integer_is_refused(  # type: ignore[no-untyped-def]
    client, method: str, suffix: str, payload: dict[str, str] | None
) -> None:
    lead = client("lea")
    path = f"/api/thresholds/drafts/{MAX_ROW_ID + 1}{suffix}"
    answer = lead.request(method, path, json=payload)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"] == "InvalidRequest" and "draft_id" in answer.json()["message"]
    # The largest id the database holds is simply not there.
    largest = lead.request(method, f"/api/thresholds/drafts/{MAX_ROW_ID}{suffix}", json=payload)
    assert largest.status_code == 404


@pytest.mark.parametrize("path", ["/api/audit", "/api/audit.csv"])
@pytest.mark.parametrize("name", ["from_ms", "to_ms"])
def test_an_audit_time_beyond_the_database_bigint_is_refused(client, path: str, name: str) -> None:  # type: ignore[no-untyped-def]
    lead = client("lea")
    assert lead.get(path, params={name: MAX_BIGINT + 1}).status_code == 422
    assert lead.get(path, params={name: MAX_BIGINT}).status_code == 200


def test_an_audit_offset_beyond_the_database_bigint_is_refused(client) -> None:  # type: ignore[no-untyped-def]
    lead = client("lea")
    assert lead.get("/api/audit", params={"offset": MAX_BIGINT + 1}).status_code == 422
    assert lead.get("/api/audit", params={"offset": MAX_BIGINT}).json() == []


def test_a_draft_nested_too_deeply_for_the_yaml_parser_is_a_bad_draft(client) -> None:  # type: ignore[no-untyped-def]
    lead = client("lea")
    deep = "a: " + "[" * 5000 + "]" * 5000
    answer = lead.post("/api/thresholds/validate", json={"yaml": deep})
    assert answer.status_code == 400
    assert answer.json() == {
        "error": "ConfigError",
        "message": "draft: not valid YAML: nested too deeply",
    }
