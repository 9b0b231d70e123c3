"""The pages: server-rendered HTML that calls the JSON API from a small script; no CDN."""

from __future__ import annotations

from pathlib import Path as FilePath

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from fraudguard.monitoring.drift import ALERT_PSI
from fraudguard.panel.accounts import NotAuthenticated, Session, session_of
from fraudguard.panel.deps import SESSION_COOKIE, State
from fraudguard.panel.security import Role

router = APIRouter(include_in_schema=False)
CASE_ID = Path(ge=1, le=2**31 - 1)
templates = Jinja2Templates(directory=FilePath(__file__).resolve().parents[1] / "templates")
PAGES = {
    "thresholds": Role.VIEWER,
    "cases": Role.VIEWER,
    "case": Role.VIEWER,
    "models": Role.VIEWER,
    "monitoring": Role.VIEWER,
    "audit": Role.LEAD,
    "users": Role.ADMIN,
}
"""The role each page needs to open; what a role may do on it is checked by the API."""
PRIORITY_TEXT = {
    "expected_loss": "expected loss: score × amount in euro",
    "score": "score",
    "amount_eur": "amount in euro",
}


def _session(request: Request, state: State) -> Session | None:
    try:
        with state.engine.connect() as conn:
            return session_of(conn, request.cookies.get(SESSION_COOKIE))
    except NotAuthenticated:
        return None


def _page(request: Request, state: State, name: str, **context: object) -> Response:
    session = _session(request, state)
    if session is None:
        return RedirectResponse("/login", status_code=303)
    allowed = session.user.role.allows(PAGES.get(name, Role.VIEWER))
    return templates.TemplateResponse(
        request,
        f"{name}.html" if allowed else "forbidden.html",
        {"session": session, "page": name, "Role": Role, **context},
        status_code=200 if allowed else 403,
    )


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> Response:
    return templates.TemplateResponse(request, "login.html", {"session": None, "page": "login"})


@router.get("/")
def home() -> Response:
    return RedirectResponse("/thresholds", status_code=303)


@router.get("/thresholds", response_class=HTMLResponse)
def thresholds_page(request: Request, state: State) -> Response:
    return _page(request, state, "thresholds")


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, state: State) -> Response:
    return _page(request, state, "audit")


@router.get("/users", response_class=HTMLResponse)
def users_page(request: Request, state: State) -> Response:
    return _page(request, state, "users")


@router.get("/decisions/{txn_id}", response_class=HTMLResponse)
def decision_page(request: Request, state: State, txn_id: str) -> Response:
    return _page(request, state, "decision", txn_id=txn_id[:64])


@router.get("/cases", response_class=HTMLResponse)
def cases_page(request: Request, state: State) -> Response:
    panel = state.settings.panel
    return _page(
        request,
        state,
        "cases",
        priority=PRIORITY_TEXT[panel.case_priority],
        sla_hours=panel.case_sla_hours,
    )


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(request: Request, state: State, case_id: int = CASE_ID) -> Response:
    return _page(request, state, "case", case_id=case_id)


@router.get("/models", response_class=HTMLResponse)
def models_page(request: Request, state: State) -> Response:
    return _page(request, state, "models")


@router.get("/monitoring", response_class=HTMLResponse)
def monitoring_page(request: Request, state: State) -> Response:
    return _page(request, state, "monitoring", psi_alert=ALERT_PSI)
