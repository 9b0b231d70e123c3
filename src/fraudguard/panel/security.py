"""Who may do what: roles, password hashes, session tokens and CSRF tokens.

Passwords are hashed with Argon2id (``argon2-cffi``). A session is a random token in an
HttpOnly, SameSite=Strict cookie; the database keeps only its SHA-256, so a copy of the database
opens no session. Every session has its own CSRF token, which a write must send back in the
``X-CSRF-Token`` header: a page on another site can make the browser send the cookie, but it
cannot read the token.

>>> Role.ANALYST.allows(Role.VIEWER), Role.ANALYST.allows(Role.LEAD)
(True, False)
>>> verify_password(hash_password("correct horse"), "correct horse")
True
>>> verify_password(hash_password("correct horse"), "wrong")
False
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_HASHER = PasswordHasher()
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256


class Role(enum.StrEnum):
    """Ordered: each role may do everything the roles before it may."""

    VIEWER = "viewer"
    ANALYST = "analyst"
    LEAD = "lead"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def allows(self, needed: Role) -> bool:
        return self.rank >= needed.rank


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


# Checked against when the user name is unknown, so a wrong name takes as long as a wrong
# password and timing does not tell which names exist.
DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


def new_token() -> str:
    """A random token for a cookie or a form: 256 bits, URL-safe."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def same_token(sent: str | None, expected: str) -> bool:
    return sent is not None and hmac.compare_digest(sent.encode(), expected.encode())
