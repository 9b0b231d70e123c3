"""Users and their roles (admins only)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from fraudguard.panel.accounts import add_user, list_users, set_role
from fraudguard.panel.deps import Admin, State, actor_of
from fraudguard.panel.schemas import UserChange, UserIn, UserOut

router = APIRouter(prefix="/api/users", tags=["users"])


@router.get("", response_model=list[UserOut])
def users(state: State, session: Admin) -> list[UserOut]:
    """Every user with their role."""
    return [UserOut.model_validate(u) for u in list_users(state.engine)]


@router.post("", response_model=UserOut, status_code=201)
def create(body: UserIn, request: Request, state: State, session: Admin) -> UserOut:
    """Add a user."""
    add_user(state.engine, body.name, body.role, body.password, actor_of(session, request))
    return next(
        UserOut.model_validate(u) for u in list_users(state.engine) if u["name"] == body.name
    )


@router.patch("/{name}", response_model=UserOut)
def change(name: str, body: UserChange, request: Request, state: State, session: Admin) -> UserOut:
    """Change a user's role, or disable them (their sessions end)."""
    set_role(state.engine, name, body.role, body.disabled, actor_of(session, request))
    return next(UserOut.model_validate(u) for u in list_users(state.engine) if u["name"] == name)
