"""Users, logins and sessions.

A login is refused, whatever the password, once a user name or a client address has had
``login_attempts`` failures within ``login_window_s``; every attempt is counted in the database,
so the limit holds across restarts and processes.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, and_, func, insert, select, update

from fraudguard.config import PanelSettings
from fraudguard.errors import FraudGuardError
from fraudguard.panel import tables as t
from fraudguard.panel.audit import Actor, record
from fraudguard.panel.security import (
    DUMMY_HASH,
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    Role,
    hash_password,
    new_token,
    token_hash,
    verify_password,
)

USER_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,64}")


class NotAuthenticated(FraudGuardError):
    """No valid session: log in."""

    http_status = 401


class Forbidden(FraudGuardError):
    """The user's role does not allow this."""

    http_status = 403


class TooManyAttempts(FraudGuardError):
    """Too many failed logins for this name or address: wait before trying again."""

    http_status = 429


class InvalidUser(FraudGuardError):
    """A user cannot be created as asked."""

    http_status = 422


@dataclass(frozen=True, slots=True)
class User:
    id: int
    name: str
    role: Role


@dataclass(frozen=True, slots=True)
class Session:
    user: User
    csrf_token: str
    expires_at_ms: int


def now_ms() -> int:
    return int(time.time() * 1000)


def add_user(engine: Engine, name: str, role: Role, password: str, by: Actor) -> User:
    """Create a user (refused: a taken or malformed name, a short password)."""
    if not USER_NAME.fullmatch(name):
        raise InvalidUser("a user name is 1-64 characters of letters, digits, '_', '.', '-'")
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise InvalidUser(
            f"a password has {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters"
        )
    with engine.begin() as conn:
        if conn.execute(select(t.users.c.id).where(t.users.c.name == name)).first():
            raise InvalidUser(f"user {name!r} exists")
        result = conn.execute(
            insert(t.users).values(
                name=name,
                role=role.value,
                password_hash=hash_password(password),
                created_at_ms=now_ms(),
                disabled=False,
            )
        )
        record(conn, by, "user.create", f"user {name}", after={"name": name, "role": role.value})
        key = result.inserted_primary_key
        assert key is not None  # an INSERT into a table with an integer primary key
        return User(int(key[0]), name, role)


def list_users(engine: Engine) -> list[dict[str, object]]:
    with engine.connect() as conn:
        rows = conn.execute(select(t.users).order_by(t.users.c.name)).mappings().all()
    return [
        {
            "name": r["name"],
            "role": r["role"],
            "disabled": r["disabled"],
            "created_at_ms": r["created_at_ms"],
        }
        for r in rows
    ]


def set_role(engine: Engine, name: str, role: Role, disabled: bool, by: Actor) -> None:
    """Change a user's role or disable them; their sessions end when disabled."""
    with engine.begin() as conn:
        row = conn.execute(select(t.users).where(t.users.c.name == name)).mappings().first()
        if row is None:
            raise InvalidUser(f"no user {name!r}")
        stays_admin = role == Role.ADMIN and not disabled
        if row["role"] == Role.ADMIN.value and not row["disabled"] and not stays_admin:
            admins = conn.execute(
                select(func.count()).where(
                    t.users.c.role == Role.ADMIN.value, t.users.c.disabled.is_(False)
                )
            ).scalar_one()
            if admins <= 1:  # nobody could manage users any more
                raise InvalidUser(f"{name} is the last admin: make another admin first")
        conn.execute(
            update(t.users)
            .where(t.users.c.id == row["id"])
            .values(role=role.value, disabled=disabled)
        )
        if disabled:
            conn.execute(
                update(t.sessions).where(t.sessions.c.user_id == row["id"]).values(revoked=True)
            )
        record(
            conn,
            by,
            "user.update",
            f"user {name}",
            before={"role": row["role"], "disabled": row["disabled"]},
            after={"role": role.value, "disabled": disabled},
        )


def log_in(
    engine: Engine, settings: PanelSettings, name: str, password: str, client: str
) -> tuple[str, Session]:
    """A new session's cookie token and the session; every attempt is audited."""
    at = now_ms()
    since = at - settings.login_window_s * 1000
    with engine.begin() as conn:
        a = t.login_attempts.c
        failures = conn.execute(
            select(func.count()).where(
                and_(
                    a.at_ms >= since, a.ok.is_(False), (a.name == name[:64]) | (a.client == client)
                )
            )
        ).scalar_one()
        refused = failures >= settings.login_attempts
        if refused:  # audited, and committed, before the refusal is raised
            record(
                conn,
                Actor(name[:64], "anonymous", client),
                "login.refused",
                f"user {name[:64]}",
                after={"reason": "too many failed attempts"},
            )
    if refused:
        raise TooManyAttempts("too many failed logins; try again later")
    with engine.begin() as conn:
        row = conn.execute(select(t.users).where(t.users.c.name == name[:64])).mappings().first()
        valid = verify_password(row["password_hash"] if row else DUMMY_HASH, password)
        ok = bool(row) and valid and not row["disabled"]  # type: ignore[index]
        conn.execute(
            insert(t.login_attempts).values(name=name[:64], client=client, at_ms=at, ok=ok)
        )
        if not ok:
            record(conn, Actor(name[:64], "anonymous", client), "login.failed", f"user {name[:64]}")
    if not ok:
        raise NotAuthenticated("wrong user name or password")
    assert row is not None
    token, csrf = new_token(), new_token()
    expires = at + int(settings.session_hours * 3_600_000)
    user = User(int(row["id"]), row["name"], Role(row["role"]))
    with engine.begin() as conn:
        conn.execute(
            insert(t.sessions).values(
                token_hash=token_hash(token),
                user_id=user.id,
                csrf_token=csrf,
                created_at_ms=at,
                expires_at_ms=expires,
                revoked=False,
            )
        )
        record(conn, Actor(user.name, user.role.value, client), "login", f"user {user.name}")
    return token, Session(user, csrf, expires)


def session_of(conn: Connection, token: str | None) -> Session:
    """The live session of a cookie token; ``NotAuthenticated`` otherwise."""
    if not token or len(token) > 128:
        raise NotAuthenticated("log in first")
    s, u = t.sessions.c, t.users.c
    row = conn.execute(
        select(s.csrf_token, s.expires_at_ms, u.id, u.name, u.role)
        .join(t.users, t.users.c.id == s.user_id)
        .where(s.token_hash == token_hash(token), s.revoked.is_(False), u.disabled.is_(False))
    ).first()
    if row is None or row.expires_at_ms <= now_ms():
        raise NotAuthenticated("the session has ended; log in again")
    return Session(User(row.id, row.name, Role(row.role)), row.csrf_token, row.expires_at_ms)


def log_out(engine: Engine, token: str, actor: Actor) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(t.sessions)
            .where(t.sessions.c.token_hash == token_hash(token))
            .values(revoked=True)
        )
        record(conn, actor, "logout", f"user {actor.name}")
