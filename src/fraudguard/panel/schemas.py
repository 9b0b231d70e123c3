"""Request and response bodies of the panel's API, with limits on every size."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from fraudguard.panel.security import MAX_PASSWORD_LENGTH, Role

MAX_YAML = 64_000
MAX_TEXT = 2_000
MAX_ROW_ID = 2**31 - 1
"""The largest id of a row (PostgreSQL's ``integer``): a larger one names no row, and the
database driver refuses to send it."""
MAX_BIGINT = 2**63 - 1
"""The largest millisecond time or row offset the database takes (``bigint``)."""


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Login(_Body):
    name: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)


class SessionOut(BaseModel):
    user: str
    role: Role
    csrf_token: str
    expires_at_ms: int


class UserIn(_Body):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")
    role: Role
    password: str = Field(min_length=12, max_length=MAX_PASSWORD_LENGTH)


class UserChange(_Body):
    role: Role
    disabled: bool = False


class UserOut(BaseModel):
    name: str
    role: Role
    disabled: bool
    created_at_ms: int


TIERS_EXAMPLE = 'version: "strict-v2"\nreview: 0.3\nblock: 0.7\n'
"""A draft that loads, shown in the OpenAPI schema: a reader (or a test generated from the
schema) starts from a valid request rather than guessing the tiers format."""


class TiersText(_Body):
    yaml: str = Field(min_length=1, max_length=MAX_YAML, examples=[TIERS_EXAMPLE])


class WhatIfIn(_Body):
    yaml: str = Field(min_length=1, max_length=MAX_YAML, examples=[TIERS_EXAMPLE])
    days: int | None = Field(default=None, ge=1, le=90)


class Reason(_Body):
    reason: str = Field(min_length=1, max_length=MAX_TEXT)


class Note(_Body):
    note: str = Field(default="", max_length=MAX_TEXT)


class RollbackIn(_Body):
    version: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=1, max_length=MAX_TEXT)


class DraftOut(BaseModel):
    id: int
    version: str
    yaml: str
    author: str
    status: str
    reason: str
    rollback_to: str | None
    created_at_ms: int
    updated_at_ms: int
    proposed_by: str | None
    proposed_at_ms: int | None
    decided_by: str | None
    decided_at_ms: int | None
    decision_note: str | None
    published_offset: int | None


class Publication(BaseModel):
    offset: int
    version: str
    issued_at_ms: int | None
    tiers: dict[str, Any]
    first_decision_at_ms: int | None = None
    """When the job's decisions first carried this version (from the decision store)."""


class ThresholdsOut(BaseModel):
    version: str
    tiers: dict[str, Any]
    yaml: str
    history: list[Publication]


class ValidationOut(BaseModel):
    version: str
    tiers: dict[str, Any]


class AuditEntry(BaseModel):
    id: int
    at_ms: int
    actor: str
    role: str
    action: str
    target: str
    before: Any
    after: Any
    client: str


class StoreStatus(BaseModel):
    decisions: int
    labels: int
    rejects: int
    rejects_by_reason: dict[str, int]
    offsets: dict[str, int]


class ErrorOut(BaseModel):
    error: str
    message: str
