"""Re-ranker snapshots as ``control`` topic messages, so the running job can apply them.

The learner publishes a snapshot only once the guard has accepted it (every snapshot a
:class:`~fraudguard.reranker.model.Reranker` hands out is a stable one); the job applies the
newest one it reads. The message follows the conventions of
:mod:`fraudguard.control.messages` (compact JSON, a ``type``, the type as the Kafka key),
where :func:`parse_reranker` is registered:

``{"type": "reranker", "version": ..., "created_at_ms": ..., "n_updates": ..., "metrics": {...},
"base_model_version": ..., "blob_b64": ...}``

A re-ranker learns on one base model's logit, so a snapshot names that model
(``base_model_version``): the job applies it only to transactions that model scored, and a
promotion or rollback of the champion leaves the new model's scores untouched until a snapshot
for it arrives. ``null`` applies to any model (a snapshot made by hand).

>>> from fraudguard.reranker.model import Reranker
>>> snapshot = Reranker(clock=lambda: 1_795_428_000_000).snapshot()
>>> raw = reranker_message(snapshot)
>>> len(raw) < 2_000, raw[:34]
(True, b'{"type":"reranker","version":"rr-0')
>>> parse_reranker_message(raw) == snapshot
True
>>> parse_reranker_message(raw.replace(b'"n_updates":0', b'"n_updates":9'))
Traceback (most recent call last):
...
fraudguard.errors.ControlMessageError: control message (reranker): n_updates: 9, the blob says 0
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any, ClassVar

import orjson

from fraudguard.errors import ControlMessageError, RerankerError
from fraudguard.reranker.model import RerankerSnapshot

OFFSET_METRIC = "labels_offset."
"""Prefix of the snapshot metrics that record where in ``labels`` the learner's batch ended, so
a restarted learner (and a rollback) carries on from there."""
MAX_RERANKER_MESSAGE_BYTES = 64_000
"""A snapshot message larger than this is refused (a snapshot is about 1 KB; the topic's
limit is 1 MB)."""
_SOURCE = "control message (reranker)"
_KEYS = {"type", "version", "created_at_ms", "n_updates", "metrics", "blob_b64"}
_OPTIONAL = {"base_model_version"}


@dataclass(frozen=True, slots=True)
class RerankerChange:
    """A new re-ranker snapshot for the job, from the moment it reads this message."""

    type: ClassVar[str] = "reranker"
    snapshot: RerankerSnapshot
    base_model_version: str | None = None
    """The model whose scores this snapshot re-ranks; None: any."""

    def to_json(self) -> bytes:
        """The compact JSON message."""
        s = self.snapshot
        raw = orjson.dumps(
            {
                "type": self.type,
                "version": s.version,
                "created_at_ms": s.created_at_ms,
                "n_updates": s.n_updates,
                "metrics": dict(s.metrics),
                "base_model_version": self.base_model_version,
                "blob_b64": base64.b64encode(s.blob).decode("ascii"),
            }
        )
        if len(raw) > MAX_RERANKER_MESSAGE_BYTES:
            raise RerankerError(
                f"re-ranker snapshot message is {len(raw)} bytes, over {MAX_RERANKER_MESSAGE_BYTES}"
            )
        return raw


def reranker_message(snapshot: RerankerSnapshot, base_model_version: str | None = None) -> bytes:
    """The control message that publishes ``snapshot`` (for scores of ``base_model_version``)."""
    return RerankerChange(snapshot, base_model_version).to_json()


def parse_reranker_message(raw: bytes) -> RerankerSnapshot:
    """The snapshot in one reranker control message; ``ControlMessageError`` says what is wrong."""
    # Imported here: fraudguard.control.messages registers this module's parser at import.
    from fraudguard.control.messages import parse_control

    if len(raw) > MAX_RERANKER_MESSAGE_BYTES:
        raise ControlMessageError(f"{_SOURCE}: over {MAX_RERANKER_MESSAGE_BYTES} bytes")
    change = parse_control(raw)
    if not isinstance(change, RerankerChange):
        raise ControlMessageError(f"{_SOURCE}: not an object of type 'reranker'")
    return change.snapshot


def parse_reranker(doc: dict[str, Any]) -> RerankerChange:
    """Validate a decoded reranker message down to its blob (the job can apply what passes)."""
    unknown = sorted(set(doc) - _KEYS - _OPTIONAL)
    if unknown:
        raise ControlMessageError(f"{_SOURCE}: {unknown[0]}: unknown key")
    missing = sorted(_KEYS - set(doc))
    if missing:
        raise ControlMessageError(f"{_SOURCE}: {missing[0]}: is required")
    version, created, n_updates, metrics, blob_b64 = (
        doc["version"], doc["created_at_ms"], doc["n_updates"], doc["metrics"], doc["blob_b64"],
    )  # fmt: skip
    if not isinstance(version, str):
        raise ControlMessageError(f"{_SOURCE}: version: must be a string")
    base_model = doc.get("base_model_version")
    if base_model is not None and (not isinstance(base_model, str) or not base_model):
        raise ControlMessageError(f"{_SOURCE}: base_model_version: must be a model version")
    for name, value in (("created_at_ms", created), ("n_updates", n_updates)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ControlMessageError(f"{_SOURCE}: {name}: must be a non-negative integer")
    if not isinstance(metrics, dict) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in metrics.values()
    ):
        raise ControlMessageError(f"{_SOURCE}: metrics: must map names to numbers")
    try:
        blob = base64.b64decode(blob_b64, validate=True)
        snapshot = RerankerSnapshot.of(blob, created, {k: float(v) for k, v in metrics.items()})
        snapshot.restore()  # refuses what the job could not apply
    except (TypeError, binascii.Error) as exc:
        raise ControlMessageError(f"{_SOURCE}: blob_b64: not base64 ({exc})") from None
    except RerankerError as exc:
        raise ControlMessageError(f"{_SOURCE}: {exc}") from None
    if snapshot.n_updates != n_updates:
        raise ControlMessageError(
            f"{_SOURCE}: n_updates: {n_updates}, the blob says {snapshot.n_updates}"
        )
    if snapshot.version != version:
        raise ControlMessageError(
            f"{_SOURCE}: version: {version} does not match the blob ({snapshot.version})"
        )
    return RerankerChange(snapshot, base_model)


def labels_offsets(snapshot: RerankerSnapshot) -> dict[int, int]:
    """The ``labels`` offsets recorded in a published snapshot's metrics.

    >>> labels_offsets(RerankerSnapshot("v", 0, 0, b"", {"labels_offset.0": 42.0, "window": 9}))
    {0: 42}
    """
    return {
        int(name[len(OFFSET_METRIC) :]): int(value)
        for name, value in snapshot.metrics.items()
        if name.startswith(OFFSET_METRIC)
    }
