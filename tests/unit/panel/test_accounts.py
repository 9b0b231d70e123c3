"""Logins, sessions, roles and CSRF, checked on the server for every call."""

from __future__ import annotations

from sqlalchemy import Engine, select

from fraudguard.panel import tables as t

PASSWORD = "correct horse battery"


def test_a_login_sets_an_httponly_strict_cookie_and_gives_the_csrf_token(client) -> None:  # type: ignore[no-untyped-def]
    http = client("")
    answer = http.post("/api/session", json={"name": "lea", "password": PASSWORD})
    assert answer.status_code == 200
    cookie = answer.headers["set-cookie"]
    assert "fg_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    body = answer.json()
    assert body["user"] == "lea" and body["role"] == "lead" and len(body["csrf_token"]) > 30
    assert http.get("/api/session").json()["csrf_token"] == body["csrf_token"]


def test_the_session_token_is_stored_only_as_a_hash(client, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    http = client("lea")
    token = http.cookies["fg_session"]
    with engine.connect() as conn:
        stored = conn.execute(select(t.sessions.c.token_hash)).scalars().all()
    assert token not in stored and len(stored) == 1 and len(stored[0]) == 64


def test_wrong_passwords_and_unknown_names_get_the_same_401(client) -> None:  # type: ignore[no-untyped-def]
    http = client("")
    wrong = http.post("/api/session", json={"name": "lea", "password": "nope nope nope"})
    unknown = http.post("/api/session", json={"name": "nobody", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert (
        wrong.json()
        == unknown.json()
        == {"error": "NotAuthenticated", "message": "wrong user name or password"}
    )


def test_logins_are_rate_limited_per_name_and_the_limit_is_audited(client, engine) -> None:  # type: ignore[no-untyped-def]
    http = client("")
    for _ in range(3):
        assert http.post("/api/session", json={"name": "ana", "password": "x"}).status_code == 401
    refused = http.post("/api/session", json={"name": "ana", "password": PASSWORD})
    assert refused.status_code == 429
    with engine.connect() as conn:
        actions = conn.execute(select(t.audit.c.action).where(t.audit.c.actor == "ana")).scalars()
        assert list(actions) == ["login.failed"] * 3 + ["login.refused"]


def test_every_api_call_but_login_needs_a_session(client) -> None:  # type: ignore[no-untyped-def]
    http = client("")
    for method, path in [
        ("GET", "/api/thresholds"),
        ("GET", "/api/audit"),
        ("GET", "/api/users"),
        ("POST", "/api/thresholds/drafts"),
        ("GET", "/api/store"),
        ("GET", "/api/decisions/t1"),
        ("DELETE", "/api/session"),
    ]:
        answer = http.request(method, path, json={"yaml": "x"})
        assert answer.status_code == 401, (method, path)
        assert set(answer.json()) == {"error", "message"}
    assert http.get("/thresholds", follow_redirects=False).headers["location"] == "/login"


def test_roles_are_checked_on_the_server(client) -> None:  # type: ignore[no-untyped-def]
    viewer, analyst, lead = client("vera"), client("ana"), client("lea")
    yaml = 'version: "v2"\nreview: 0.4\nblock: 0.9\n'
    assert viewer.post("/api/thresholds/whatif", json={"yaml": yaml}).status_code == 403
    assert analyst.post("/api/thresholds/whatif", json={"yaml": yaml}).status_code == 200
    assert analyst.post("/api/thresholds/drafts", json={"yaml": yaml}).status_code == 403
    assert lead.post("/api/thresholds/drafts", json={"yaml": yaml}).status_code == 201
    assert lead.get("/api/users").status_code == 403
    assert client("adam").get("/api/users").status_code == 200
    assert viewer.get("/api/audit").status_code == 403
    assert viewer.get("/audit").status_code == 403


def test_a_write_without_the_csrf_token_is_refused(client) -> None:  # type: ignore[no-untyped-def]
    lead = client("lea")
    token = lead.headers.pop("X-CSRF-Token")
    yaml = 'version: "v2"\nreview: 0.4\nblock: 0.9\n'
    refused = lead.post("/api/thresholds/drafts", json={"yaml": yaml})
    assert refused.status_code == 403 and "CSRF" in refused.json()["message"]
    wrong = lead.post("/api/thresholds/drafts", json={"yaml": yaml}, headers={"X-CSRF-Token": "x"})
    assert wrong.status_code == 403
    ok = lead.post("/api/thresholds/drafts", json={"yaml": yaml}, headers={"X-CSRF-Token": token})
    assert ok.status_code == 201


def test_logout_ends_the_session(client) -> None:  # type: ignore[no-untyped-def]
    lead = client("lea")
    assert lead.delete("/api/session").status_code == 204
    lead.cookies.clear()
    assert lead.get("/api/session").status_code == 401


def test_a_disabled_user_loses_their_sessions(client) -> None:  # type: ignore[no-untyped-def]
    analyst, admin = client("ana"), client("adam")
    assert analyst.get("/api/thresholds").status_code == 200
    changed = admin.patch("/api/users/ana", json={"role": "analyst", "disabled": True})
    assert changed.status_code == 200 and changed.json()["disabled"] is True
    assert analyst.get("/api/thresholds").status_code == 401


def test_bad_requests_are_json_without_a_trace(client) -> None:  # type: ignore[no-untyped-def]
    lead = client("lea")
    answer = lead.post("/api/thresholds/drafts", json={"yaml": 5, "extra": 1})
    assert answer.status_code == 422 and set(answer.json()) == {"error", "message"}
    assert "Traceback" not in answer.text
    assert lead.get("/api/decisions/" + "x" * 65).status_code == 422


def test_pages_send_security_headers(client) -> None:  # type: ignore[no-untyped-def]
    page = client("lea").get("/thresholds")
    assert page.status_code == 200
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"


def test_the_last_admin_cannot_be_demoted_or_disabled(client) -> None:  # type: ignore[no-untyped-def]
    admin = client("adam")
    for change in ({"role": "lead", "disabled": False}, {"role": "admin", "disabled": True}):
        refused = admin.patch("/api/users/adam", json=change)
        assert refused.status_code == 422 and "last admin" in refused.json()["message"]
    promoted = admin.patch("/api/users/lea", json={"role": "admin", "disabled": False})
    assert promoted.status_code == 200
    stepped_down = admin.patch("/api/users/adam", json={"role": "lead", "disabled": False})
    assert stepped_down.status_code == 200
