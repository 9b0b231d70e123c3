"""The stream's clock of the outcomes service: how far the decisions have got in event time.

A label is held until this clock reaches its report time, as the generator's ``LabelQueue``
holds hindsight labels until its simulated clock does: nobody learns of a chargeback before
the stream has got to its day. The clock reads the event times of the decisions the service
has taken in, on every partition of ``decisions``, and stands at the slowest partition still
being read: each partition comes roughly in event-time order, so everything older than that is
in on every partition. A partition counts once it has given a decision or reported its end; a
partition at its end, with nothing left to take in, stops holding the clock back (all of them
at their end: the newest decision). The clock never goes back.

>>> clock = StreamClock([0, 1])
>>> clock.observe(0, 500)
>>> clock.now is None                    # partition 1 has said nothing yet
True
>>> clock.observe(1, 300)
>>> clock.now
300
>>> clock.set_idle(1, True)              # at its end: 0 alone holds the clock
>>> clock.now
500
>>> clock.observe(1, 200)                # a late decision does not move it back
>>> clock.now
500
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class StreamClock:
    """Event time reached on every partition of the decisions being read."""

    def __init__(
        self,
        partitions: Iterable[int],
        maxima: dict[int, int] | None = None,
        now: int | None = None,
    ) -> None:
        self.partitions = sorted(partitions)
        self.maxima: dict[int, int] = dict(maxima or {})
        """The newest event time taken in per partition."""
        self._idle: set[int] = set()
        self._now = now

    @property
    def now(self) -> int | None:
        """The clock in epoch milliseconds; None until every partition has counted once."""
        return self._now

    def observe(self, partition: int, ts_ms: int) -> None:
        """A decision of ``partition`` with event time ``ts_ms`` was taken in."""
        self.maxima[partition] = max(self.maxima.get(partition, ts_ms), ts_ms)
        self._idle.discard(partition)
        self._advance()

    def set_idle(self, partition: int, idle: bool) -> None:
        """``partition`` is at its end with nothing left to take in (or no longer)."""
        if idle:
            self._idle.add(partition)
        else:
            self._idle.discard(partition)
        self._advance()

    def _advance(self) -> None:
        active = [p for p in self.partitions if p not in self._idle]
        if active:
            if any(p not in self.maxima for p in active):
                return
            candidate = min(self.maxima[p] for p in active)
        elif self.maxima:
            candidate = max(self.maxima.values())
        else:
            return
        if self._now is None or candidate > self._now:
            self._now = candidate

    def to_dict(self) -> dict[str, Any]:
        """What a restart needs (idleness is not kept: a restarted reader finds it again)."""
        return {"now": self._now, "maxima": {str(p): t for p, t in self.maxima.items()}}

    @classmethod
    def from_dict(cls, partitions: Iterable[int], saved: dict[str, Any]) -> StreamClock:
        """A clock as :meth:`to_dict` saved it.

        >>> c = StreamClock.from_dict([0], StreamClock([0], {0: 7}, now=7).to_dict())
        >>> c.now, c.maxima
        (7, {0: 7})
        """
        maxima = {int(p): int(t) for p, t in saved.get("maxima", {}).items()}
        return cls(partitions, maxima, saved.get("now"))
