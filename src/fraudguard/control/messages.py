"""Messages on the ``control`` topic: how a running job learns of a change without a restart.

Each message is one compact JSON object with a ``type``; the key is the type too, so a reader
can pick its messages without parsing the others. The topic has one partition, so changes
apply in the order they were issued, and it is never truncated: it is the log of every change.
Rolling back is publishing the earlier version again.

Types (one parser each in ``_PARSERS``; model promotions follow the registry's champion
pointer instead, which the job reads itself, see :mod:`fraudguard.decision.fallback`):

- ``thresholds``: ``{"type": "thresholds", "version": ..., "tiers": {...}, "issued_at_ms": ...}``
  where ``tiers`` is a thresholds file without its ``version`` (``review``, ``block``,
  optional ``overrides`` and ``description``) and ``issued_at_ms`` is optional.
- ``reranker``: a re-ranker snapshot the learner's guard accepted (or an earlier one published
  again to roll back); see :mod:`fraudguard.control.messages`.
- ``model``: what the automatic model governor did (``promote``, ``rollback``) or why it did
  not (:mod:`fraudguard.models.governor`), with its reasons; the record of every automatic
  change. The job reads the registry itself, so it only logs these.

>>> from fraudguard.decision import BUILTIN_TIERS
>>> raw = thresholds_message(BUILTIN_TIERS, issued_at_ms=5)
>>> raw
b'{"type":"thresholds","version":"builtin-v1","tiers":{"review":0.5,"block":0.8},"issued_at_ms":5}'
>>> parse_control(raw).tiers == BUILTIN_TIERS
True
>>> parse_control(b'{"type": "coffee"}')  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
fraudguard.errors.ControlMessageError: control message: unknown type 'coffee' (known: ...)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import orjson

from fraudguard.control.reranker_message import (
    RerankerChange,
    parse_reranker,
)
from fraudguard.decision import ThresholdTiers, tiers_from_dict
from fraudguard.errors import ConfigError, ControlMessageError

MAX_CONTROL_BYTES = 1_000_000


@dataclass(frozen=True, slots=True)
class ThresholdsChange:
    """New threshold tiers for the job, from the moment it reads this message."""

    type: ClassVar[str] = "thresholds"
    tiers: ThresholdTiers
    issued_at_ms: int | None = None

    def to_json(self) -> bytes:
        """The compact JSON message."""
        definition = self.tiers.to_dict()
        version = definition.pop("version")
        doc: dict[str, Any] = {"type": self.type, "version": version, "tiers": definition}
        if self.issued_at_ms is not None:
            doc["issued_at_ms"] = self.issued_at_ms
        return orjson.dumps(doc)


@dataclass(frozen=True, slots=True)
class ModelNotice:
    """An automatic model action, or a refusal, as the governor logged it."""

    type: ClassVar[str] = "model"
    action: str
    version: str | None
    reasons: tuple[str, ...]
    at_ms: int

    def to_json(self) -> bytes:
        return orjson.dumps({"type": self.type, "action": self.action, "version": self.version,
                             "reasons": list(self.reasons), "at_ms": self.at_ms})  # fmt: skip


ControlMessage = ThresholdsChange | RerankerChange | ModelNotice
"""Every control message type."""


def control_key(message: ControlMessage) -> bytes:
    """The Kafka key of a control message: its type."""
    return message.type.encode()


def thresholds_message(tiers: ThresholdTiers, issued_at_ms: int | None = None) -> bytes:
    """The compact JSON control message that carries ``tiers``."""
    return ThresholdsChange(tiers, issued_at_ms).to_json()


def parse_control(raw: bytes | None) -> ControlMessage:
    """Validate one control message; anything else raises ``ControlMessageError`` saying why."""
    if not raw:
        raise ControlMessageError("control message: empty")
    if len(raw) > MAX_CONTROL_BYTES:
        raise ControlMessageError(f"control message: over {MAX_CONTROL_BYTES} bytes")
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ControlMessageError(f"control message: not JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise ControlMessageError("control message: must be a JSON object")
    kind = doc.get("type")
    parser = _PARSERS.get(kind) if isinstance(kind, str) else None
    if parser is None:
        raise ControlMessageError(
            f"control message: unknown type {kind!r} (known: {', '.join(sorted(_PARSERS))})"
        )
    try:
        return parser(doc)
    except ConfigError as exc:
        raise ControlMessageError(str(exc)) from None


def _parse_thresholds(doc: dict[str, Any]) -> ThresholdsChange:
    source = "control message (thresholds)"
    unknown = sorted(set(doc) - {"type", "version", "tiers", "issued_at_ms"})
    if unknown:
        raise ControlMessageError(f"{source}: {unknown[0]}: unknown key")
    tiers = doc.get("tiers")
    if not isinstance(tiers, dict):
        raise ControlMessageError(f"{source}: tiers: must be an object")
    if "version" in tiers:
        raise ControlMessageError(f"{source}: tiers.version: belongs at the top level")
    if "version" not in doc:
        raise ControlMessageError(f"{source}: version: is required")
    issued = doc.get("issued_at_ms")
    if issued is not None and (isinstance(issued, bool) or not isinstance(issued, int)):
        raise ControlMessageError(f"{source}: issued_at_ms: must be an integer, not {issued!r}")
    return ThresholdsChange(tiers_from_dict({"version": doc["version"], **tiers}, source), issued)


def _parse_model(doc: dict[str, Any]) -> ModelNotice:
    source = "control message (model)"
    unknown = sorted(set(doc) - {"type", "action", "version", "reasons", "at_ms"})
    if unknown:
        raise ControlMessageError(f"{source}: {unknown[0]}: unknown key")
    action, reasons, at = doc.get("action"), doc.get("reasons"), doc.get("at_ms")
    if action not in ("promote", "rollback", "none"):
        raise ControlMessageError(f"{source}: action: promote, rollback or none, not {action!r}")
    if not isinstance(reasons, list) or not all(isinstance(r, str) for r in reasons):
        raise ControlMessageError(f"{source}: reasons: must be a list of strings")
    if isinstance(at, bool) or not isinstance(at, int):
        raise ControlMessageError(f"{source}: at_ms: must be an integer, not {at!r}")
    version = doc.get("version")
    if version is not None and not isinstance(version, str):
        raise ControlMessageError(f"{source}: version: must be a string or null")
    return ModelNotice(action, version, tuple(reasons), at)


_PARSERS: dict[str, Callable[[dict[str, Any]], ControlMessage]] = {
    ThresholdsChange.type: _parse_thresholds,
    RerankerChange.type: parse_reranker,
    ModelNotice.type: _parse_model,
}
