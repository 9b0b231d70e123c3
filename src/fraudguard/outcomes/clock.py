"""The stream's clock of the outcomes service: how far the decisions have got in event time.

A label is held until this clock reaches its report time, as the generator's ``LabelQueue``
holds hindsight labels until its simulated clock does: nobody learns of a chargeback before
the stream has got to its day. The clock reads the event times of the decisions the service
has taken in, on every partition of ``decisions``, and stands at the slowest partition: each
partition comes roughly in event-time order, so everything older than that is in on every
partition. A partition that has given decisions holds the clock even while it has nothing new
(the job writes to every partition at every checkpoint, and a reader that catches up with one
partition a moment before the others must not run ahead of them: in a catch-up, event time
moves thousands of seconds per second). One that has never given a decision counts once it does,
or is left out once it is read to its end (a topic with more partitions than decisions). The
clock never goes back.

>>> clock = StreamClock([0, 1])
>>> clock.observe(0, 500)
>>> clock.now is None                    # partition 1 has said nothing yet
True
>>> clock.observe(1, 300)
>>> clock.now
300
>>> clock.set_idle(1, True)              # at its end for now: it still holds the clock
>>> clock.now
300
>>> clock.observe(1, 900)
>>> clock.now
500
>>> clock.observe(1, 200)                # a late decision does not move it back
>>> clock.now
500
>>> empty = StreamClock([0, 1])
>>> empty.observe(0, 40)
>>> empty.set_idle(1, True)              # never a decision, and read to its end: left out
>>> empty.now
40
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
        """``partition`` is at its end with nothing left to take in (or no longer); only a
        partition that never gave a decision is left out for it."""
        if idle:
            self._idle.add(partition)
        else:
            self._idle.discard(partition)
        self._advance()

    def _advance(self) -> None:
        counted = [p for p in self.partitions if p in self.maxima or p not in self._idle]
        if not counted or any(p not in self.maxima for p in counted):
            return
        candidate = min(self.maxima[p] for p in counted)
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
