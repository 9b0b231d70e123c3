"""Per-entity window state: the two ways an entity's recent history is kept.

A transaction at event time ``t`` sees the events of its entity with ``t - W < ts < t`` plus
itself. Events stamped the same millisecond do not see each other, so the value does not depend
on the order in which simultaneous events arrive.

:class:`RawEventWindows` keeps every event of the longest horizon: exact, and small for cards
and devices (a card makes a few payments a day). :class:`MinuteBucketWindows` keeps one
``(count, sum)`` per minute plus, for distinct counts, the minute each card was last seen:
bounded for busy merchants, exact except at the old edge of each window, where it covers whole
minutes, so it leaves out the events of up to the first 60 s of the window (those in
``(t - W, start of the minute of t - W + 1 min)``).

>>> raw = RawEventWindows(horizon_ms=3_600_000)
>>> for ts, amount in ((0, 10.0), (60_000, 5.0), (3_600_000, 1.0)):
...     _ = raw.add(ts, (amount, "m1"))
>>> lo, hi = raw.window(3_600_000, 3_600_000)
>>> raw.column(0, lo, hi), len(raw)
([5.0], 2)

>>> buckets = MinuteBucketWindows(window_minutes=(60,))
>>> buckets.add(0, 10.0, "c1"), buckets.add(30_000, 5.0, "c2"), buckets.add(30_000, 2.0, "c3")
([(1, 10.0, 1)], [(2, 15.0, 2)], [(2, 12.0, 2)])
>>> buckets.add(3_630_000, 1.0, "c1")  # the minute of 0 s has left the hour
[(1, 1.0, 1)]
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Hashable, MutableMapping

MINUTE_MS = 60_000


class RawEventWindows:
    """Every event of the last ``horizon_ms``: timestamps plus a tuple of values per event.

    Events usually arrive in order and are appended; a late one is inserted at its place.
    """

    __slots__ = ("horizon_ms", "ts", "values")

    def __init__(self, horizon_ms: int) -> None:
        self.horizon_ms = horizon_ms
        self.ts: list[int] = []
        self.values: list[tuple[object, ...]] = []

    def __len__(self) -> int:
        return len(self.ts)

    def add(self, ts_ms: int, values: tuple[object, ...]) -> int:
        """Record an event; returns its position (after any events with the same timestamp)."""
        if not self.ts or ts_ms >= self.ts[-1]:
            self.ts.append(ts_ms)
            self.values.append(values)
            position = len(self.ts) - 1
        else:
            position = bisect_right(self.ts, ts_ms)
            self.ts.insert(position, ts_ms)
            self.values.insert(position, values)
        return position - self._evict(self.ts[-1] - self.horizon_ms)

    def _evict(self, older_than_or_at: int) -> int:
        cut = bisect_right(self.ts, older_than_or_at)
        if cut:
            del self.ts[:cut]
            del self.values[:cut]
        return cut

    def window(self, t_ms: int, window_ms: int) -> tuple[int, int]:
        """``[lo, hi)`` positions of the events with ``t - window < ts < t``."""
        hi = bisect_left(self.ts, t_ms)
        return bisect_right(self.ts, t_ms - window_ms, 0, hi), hi

    def column(self, index: int, lo: int, hi: int) -> list[object]:
        return [v[index] for v in self.values[lo:hi]]

    def position_of_last(self, ts_ms: int) -> int:
        """Position of the last event at or before ``ts_ms``."""
        return bisect_right(self.ts, ts_ms) - 1


class MinuteBucketWindows:
    """Count, sum and distinct keys over several windows of whole minutes, updated in O(1).

    Each window keeps running totals over its range of minute buckets; as time moves on, the
    buckets that leave a window are subtracted. Distinct keys use the minute each key was last
    seen (``last_seen``, which the job keeps in Flink map state so it is not rewritten whole
    on every event): a key counts in a window when its last minute is inside it.
    """

    __slots__ = (
        "minutes", "buckets", "order", "left", "totals_", "last_seen", "current", "peer_ts",
        "peers", "_entered",
    )  # fmt: skip

    def __init__(
        self,
        window_minutes: tuple[int, ...],
        last_seen: MutableMapping[Hashable, int] | None = None,
    ) -> None:
        self.minutes = window_minutes
        self.buckets: dict[int, list[float]] = {}  # minute -> [count, sum, keys last seen here]
        self.order: list[int] = []  # minutes with a bucket, ascending
        self.left = [0] * len(window_minutes)  # per window: position in order of its oldest
        self.totals_ = [[0, 0.0, 0] for _ in window_minutes]
        self.last_seen = last_seen if last_seen is not None else {}
        self.current = -(2**62)
        # What events of the newest millisecond added, so a simultaneous event can leave it out.
        self.peer_ts = -(2**62)
        self.peers: list[list] = [[0, 0.0, set()] for _ in window_minutes]

    def __getstate__(self) -> dict[str, object]:
        # The last-seen map lives in separate state in the job; the offline path keeps it here.
        return {s: getattr(self, s) for s in self.__slots__ if s not in ("last_seen", "_entered")}

    def __setstate__(self, state: dict[str, object]) -> None:
        for name, value in state.items():
            setattr(self, name, value)
        self.last_seen = {}

    def add(self, ts_ms: int, amount: float, key: Hashable) -> list[tuple[int, float, int]]:
        """Record an event; per window, ``(count, sum, distinct)`` of the earlier events inside
        it plus this one (events of the same millisecond excluded)."""
        if ts_ms > self.peer_ts:
            self.peer_ts = ts_ms
            self.peers = [[0, 0.0, set()] for _ in self.minutes]
        peers = self.peers if ts_ms == self.peer_ts else None  # a late event: no peers known
        self._add(ts_ms, amount, key)
        entered = self._entered
        out = []
        for w, (count, total, distinct) in enumerate(self.totals_):
            if peers is not None:
                peer = peers[w]
                count -= peer[0]
                total -= peer[1]
                distinct -= len(peer[2]) - (key in peer[2])
                peer[0] += 1
                peer[1] += amount
                if w in entered:
                    peer[2].add(key)
            out.append((int(count), round(total, 6), int(distinct)))
        return out

    def _add(self, ts_ms: int, amount: float, key: Hashable) -> None:
        minute = ts_ms // MINUTE_MS
        if minute > self.current:
            self._advance(minute)
        bucket = self.buckets.get(minute)
        if bucket is None:
            bucket = self._insert(minute)
        bucket[0] += 1
        bucket[1] += amount
        for w, n in enumerate(self.minutes):
            if minute > self.current - n:
                totals = self.totals_[w]
                totals[0] += 1
                totals[1] += amount
        self._see(key, minute, bucket)

    def _see(self, key: Hashable, minute: int, bucket: list[float]) -> None:
        self._entered: set[int] = set()
        previous = self.last_seen.get(key)
        if previous is not None and previous >= minute:
            return  # seen this minute already, or a late event of a key seen since
        self.last_seen[key] = minute
        old = self.buckets.get(previous) if previous is not None else None
        if old is not None:
            old[2] -= 1
        bucket[2] += 1
        for w, n in enumerate(self.minutes):
            lo = self.current - n
            # The key moves forward in time, so it can only enter a window, never leave one.
            if minute > lo and (previous is None or previous <= lo):
                self.totals_[w][2] += 1
                self._entered.add(w)

    def _advance(self, minute: int) -> None:
        self.current = minute
        for w, n in enumerate(self.minutes):
            lo, pos, totals = minute - n, self.left[w], self.totals_[w]
            while pos < len(self.order) and self.order[pos] <= lo:
                count, total, seen = self.buckets[self.order[pos]]
                totals[0] -= count
                totals[1] -= total
                totals[2] -= seen
                pos += 1
            self.left[w] = pos
        # Buckets every window has left are no longer needed.
        drop = min(self.left)
        if drop:
            for old in self.order[:drop]:
                del self.buckets[old]
            del self.order[:drop]
            self.left = [pos - drop for pos in self.left]

    def _insert(self, minute: int) -> list[float]:
        bucket = [0, 0.0, 0]
        self.buckets[minute] = bucket
        if not self.order or minute > self.order[-1]:
            self.order.append(minute)
            return bucket
        # A late event in a minute with no bucket yet: keep order sorted, and window
        # positions pointing at the same buckets.
        insort(self.order, minute)
        self.left = [bisect_right(self.order, self.current - n) for n in self.minutes]
        return bucket
