"""What a route depends on: the panel's state, the caller's session, their role, and for every
write a matching CSRF token."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine

from fraudguard.config import Settings
from fraudguard.panel.accounts import Forbidden, Session, session_of
from fraudguard.panel.audit import Actor
from fraudguard.panel.columns import DecisionColumns
from fraudguard.panel.security import Role, same_token
from fraudguard.panel.store import DecisionStore

SESSION_COOKIE = "fg_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass
class PanelState:
    settings: Settings
    engine: Engine
    store: DecisionStore
    columns: DecisionColumns


def panel_state(request: Request) -> PanelState:
    state: PanelState = request.app.state.panel
    return state


State = Annotated[PanelState, Depends(panel_state)]


def client_of(request: Request) -> str:
    return request.client.host if request.client else ""


def current_session(request: Request, state: State) -> Session:
    with state.engine.connect() as conn:
        return session_of(conn, request.cookies.get(SESSION_COOKIE))


CurrentSession = Annotated[Session, Depends(current_session)]


def require(role: Role) -> Callable[..., Session]:
    """A dependency: a live session whose role allows ``role``, with the CSRF token on writes."""

    def check(request: Request, session: CurrentSession) -> Session:
        if request.method not in SAFE_METHODS and not same_token(
            request.headers.get(CSRF_HEADER), session.csrf_token
        ):
            raise Forbidden("missing or wrong CSRF token (send the X-CSRF-Token header)")
        if not session.user.role.allows(role):
            raise Forbidden(f"this needs the {role.value} role; you are {session.user.role.value}")
        return session

    return check


Viewer = Annotated[Session, Depends(require(Role.VIEWER))]
Analyst = Annotated[Session, Depends(require(Role.ANALYST))]
Lead = Annotated[Session, Depends(require(Role.LEAD))]
Admin = Annotated[Session, Depends(require(Role.ADMIN))]


def actor_of(session: Session, request: Request) -> Actor:
    return Actor(session.user.name, session.user.role.value, client_of(request))
