"""Logging in and out."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from fraudguard.panel.accounts import log_in, log_out
from fraudguard.panel.deps import (
    SESSION_COOKIE,
    CurrentSession,
    State,
    Viewer,
    actor_of,
    client_of,
)
from fraudguard.panel.schemas import Login, SessionOut

router = APIRouter(prefix="/api/session", tags=["session"])


@router.post("", response_model=SessionOut)
def login(body: Login, request: Request, response: Response, state: State) -> SessionOut:
    """Log in; the session cookie is HttpOnly and SameSite=Strict."""
    settings = state.settings.panel
    token, session = log_in(state.engine, settings, body.name, body.password, client_of(request))
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(settings.session_hours * 3600),
        httponly=True,
        samesite="strict",
        secure=settings.secure_cookies,
        path="/",
    )
    return SessionOut(
        user=session.user.name,
        role=session.user.role,
        csrf_token=session.csrf_token,
        expires_at_ms=session.expires_at_ms,
    )


@router.get("", response_model=SessionOut)
def me(session: CurrentSession) -> SessionOut:
    """Who is logged in, and the CSRF token their writes send."""
    return SessionOut(
        user=session.user.name,
        role=session.user.role,
        csrf_token=session.csrf_token,
        expires_at_ms=session.expires_at_ms,
    )


@router.delete("", status_code=204)
def logout(request: Request, response: Response, state: State, session: Viewer) -> None:
    """End this session."""
    log_out(state.engine, request.cookies[SESSION_COOKIE], actor_of(session, request))
    response.delete_cookie(SESSION_COOKIE, path="/")
