"""The decision FraudGuard writes to ``decisions``: one JSON object per transaction, with the
feature values the JVM already wrote spliced in as text.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

import orjson

Decision = Literal["approve", "review", "block"]


class WrittenFeatures(Mapping[str, float]):
    """A transaction's feature values that come with their JSON object already written (the
    job's JVM writes it, each value exact): a decision record splices the text in instead of
    writing every float again, and a value is read from the packed bytes only when asked for.

    ``packed`` holds the values as little-endian float64s from offset ``at``; ``index`` gives
    each name's position, in order. ``json`` must be the object :func:`orjson.dumps` would write
    for the same values.

    >>> import struct
    >>> index = {"n": 0, "x": 1}
    >>> f = WrittenFeatures(index, struct.pack("<2d", 3.0, 12.5), 0, b'{"n":3.0,"x":12.5}')
    >>> f["x"], f.get("nope"), dict(f)
    (12.5, None, {'n': 3.0, 'x': 12.5})
    >>> orjson.loads(DecisionRecord("t", "c", "e", "approve", 0.1, "m", "th", 1, f).to_json())[
    ...     "features"]
    {'n': 3.0, 'x': 12.5}
    """

    __slots__ = ("index", "json", "_packed", "_at")

    def __init__(self, index: Mapping[str, int], packed: bytes, at: int, json: bytes) -> None:
        self.index = index
        self.json = json
        self._packed = packed
        self._at = at

    def __getitem__(self, name: str) -> float:
        value: float = _FLOAT64.unpack_from(self._packed, self._at + 8 * self.index[name])[0]
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self.index)

    def __len__(self) -> int:
        return len(self.index)

    def __repr__(self) -> str:
        return f"WrittenFeatures({dict(self)!r})"


_FLOAT64 = struct.Struct("<d")


def _written_json(value: object) -> orjson.Fragment:
    # orjson calls this for what it cannot write itself; a dict subclass would never get here.
    if isinstance(value, WrittenFeatures):
        return orjson.Fragment(value.json)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    """One answer on the ``decisions`` topic: what was decided and everything that made it."""

    txn_id: str
    card_id: str
    event_time: str
    decision: str
    score: float
    model_version: str
    threshold_version: str
    decided_at_ms: int
    features: Mapping[str, float]
    """The values the decision used, in the registry's order (a :class:`WrittenFeatures` in
    the job)."""
    feature_version: str = "none"
    base_score: float | None = None
    """The base model's (or the rules') score before the re-ranker; ``score`` is what the tiers
    saw. Equal to ``score`` when no re-ranker snapshot applied (``reranker_version`` none)."""
    reranker_version: str = "none"
    tier: str = "default"
    explored: bool = False
    propensity: float = 1.0
    """Probability that this decision was the one taken: 1.0 unless exploration could release it."""
    degraded: bool = False
    """True when the rule-based fallback scored the transaction instead of the model."""
    late: bool = False
    """True when the transaction came behind the watermark and was decided on arrival, against
    state that may already hold later events (see ``docs/features.md``)."""
    merchant_id: str = ""
    terminal_id: str = ""
    amount: float = 0.0
    """In the transaction's own currency."""
    currency: str = ""
    mcc: str = ""
    country: str = ""
    channel: str = ""
    """The transaction fields the tiers segment on and people read, so the decision log alone
    answers what-if questions and shows a case (empty in records written before they were)."""
    challenger_version: str | None = None
    challenger_score: float | None = None
    """The shadow challenger's version and base score (``fraudguard model challenger``): scored
    beside the champion for comparison, never deciding; None when no challenger is set or it
    could not score."""

    def to_json(self) -> bytes:
        # orjson serialises dataclasses natively, several times faster than asdict + dumps.
        return orjson.dumps(self, default=_written_json)
