"""A panel on an in-memory database and an in-memory control topic: the API without services
(the real Kafka, job, PostgreSQL and browser are in tests/integration)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.pool import StaticPool

from fraudguard.config import PanelSettings, Settings
from fraudguard.panel.accounts import add_user
from fraudguard.panel.app import create_app
from fraudguard.panel.audit import Actor
from fraudguard.panel.security import Role

PASSWORD = "correct horse battery"


@pytest.fixture
def engine() -> Engine:
    from sqlalchemy import create_engine

    from fraudguard.panel.tables import APPEND_ONLY_SQLITE, metadata

    engine = create_engine(
        "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
    )
    metadata.create_all(engine)
    with engine.begin() as conn:
        for statement in APPEND_ONLY_SQLITE:
            conn.exec_driver_sql(statement)
    return engine


@pytest.fixture
def settings() -> Settings:
    return Settings(panel=PanelSettings(login_attempts=3))


@pytest.fixture
def users(engine: Engine) -> dict[str, Role]:
    roles = {
        "vera": Role.VIEWER,
        "ana": Role.ANALYST,
        "lea": Role.LEAD,
        "leo": Role.LEAD,
        "adam": Role.ADMIN,
    }
    for name, role in roles.items():
        add_user(engine, name, role, PASSWORD, Actor("test", "admin"))
    return roles


Client = Callable[[str], TestClient]


@pytest.fixture
def client(
    settings: Settings, engine: Engine, control: object, users: dict[str, Role]
) -> Iterator[Client]:
    """``client(name)``: a browser-like client logged in as ``name``, its CSRF header set."""
    app = create_app(settings, engine)
    opened: list[TestClient] = []

    def login(name: str) -> TestClient:
        http = TestClient(app, raise_server_exceptions=False)
        opened.append(http)
        if name:
            answer = http.post("/api/session", json={"name": name, "password": PASSWORD})
            assert answer.status_code == 200, answer.text
            http.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
        return http

    yield login
    for http in opened:
        http.close()
