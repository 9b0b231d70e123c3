"""The panel's FastAPI application: API routers, pages, and errors as JSON without traces."""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from starlette.exceptions import HTTPException

from fraudguard.config import Settings
from fraudguard.errors import FraudGuardError
from fraudguard.panel.cases import CasePolicy
from fraudguard.panel.columns import DecisionColumns
from fraudguard.panel.db import open_database
from fraudguard.panel.deps import PanelState
from fraudguard.panel.routes import (
    audit,
    auth,
    cases,
    decisions,
    models,
    monitoring,
    pages,
    thresholds,
    users,
)
from fraudguard.panel.store import DecisionStore

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "script-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def create_app(settings: Settings, engine: Engine | None = None) -> FastAPI:
    """The panel on ``settings``' database (or ``engine``)."""
    engine = engine or open_database(settings.panel_database_url)
    app = FastAPI(
        title="FraudGuard panel",
        version="1",
        description="Fraud operations: threshold tiers with a what-if, four-eyes publishing, "
        "the decision store and the audit log. Every endpoint but login needs a session; "
        "every write needs the session's CSRF token in `X-CSRF-Token`.",
        docs_url=None,
        redoc_url=None,
    )
    store = DecisionStore(engine, CasePolicy.of(settings.panel))
    app.state.panel = PanelState(settings, engine, store, DecisionColumns(engine))
    app.state.label_publisher = None  # set by whoever runs the publisher beside the app
    routers = (auth, users, thresholds, cases, models, monitoring, audit, decisions)
    for module in routers:
        app.include_router(module.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.middleware("http")
    async def security_headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @app.exception_handler(FraudGuardError)
    async def library_error(request: Request, exc: FraudGuardError) -> JSONResponse:
        return _error(exc.http_status, type(exc).__name__, str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', 'invalid')}"
            for e in exc.errors()[:5]
        )
        return _error(422, "InvalidRequest", problems[:1000])

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return _error(exc.status_code, "HTTPError", str(exc.detail))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return _error(500, "InternalError", "unexpected error; the panel's log has the details")

    return app


def _error(status: int, kind: str, message: str) -> JSONResponse:
    return JSONResponse({"error": kind, "message": message}, status_code=status)
