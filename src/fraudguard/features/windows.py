"""Per-entity window state: the two ways an entity's recent history is kept.

A transaction at event time ``t`` sees the events of its entity with ``t - W < ts < t`` plus
itself. Events stamped the same millisecond do not see each other, so the value does not depend
on the order in which simultaneous events arrive.

:class:`RawEventWindows` keeps every event of the longest horizon: exact, and small for cards
and devices (a card makes a few payments a day). :class:`BucketWindows` keeps, per window,
``(count, sum)`` per time bucket plus, for distinct counts, when each key was last seen:
bounded for busy merchants (at most window / bucket buckets per window), exact except at the
old edge of each window, which covers whole buckets, so it leaves out the events of up to one
bucket width at the start of the window.

>>> raw = RawEventWindows(horizon_ms=3_600_000)
>>> for ts, amount in ((0, 10.0), (60_000, 5.0), (3_600_000, 1.0)):
...     _ = raw.add(ts, (amount, "m1"))
>>> lo, hi = raw.window(3_600_000, 3_600_000)
>>> raw.column(0, lo, hi), len(raw)
([5.0], 2)

>>> buckets = BucketWindows(windows=((3_600_000, MINUTE_MS),))
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


class BucketSeries:
    """One window kept as ``(count, sum, keys last seen here)`` per bucket of ``bucket_ms``.

    The window covers whole buckets: the bucket of ``t`` and the ones before it, back to the
    bucket after the one holding ``t - window``. Running totals move in O(1) as time advances.
    """

    __slots__ = ("window_ms", "bucket_ms", "n", "buckets", "order", "totals", "current")

    def __init__(self, window_ms: int, bucket_ms: int) -> None:
        if window_ms % bucket_ms:
            raise ValueError(f"a {window_ms} ms window is not a whole number of {bucket_ms} ms")
        self.window_ms, self.bucket_ms, self.n = window_ms, bucket_ms, window_ms // bucket_ms
        self.buckets: dict[int, list[float]] = {}
        self.order: list[int] = []  # buckets held, ascending
        self.totals = [0, 0.0, 0]
        self.current = -(2**62)

    def inside(self, bucket: int) -> bool:
        return bucket > self.current - self.n

    def add(self, ts_ms: int, amount: float, previous_ms: int | None) -> bool:
        """Count an event; ``previous_ms`` is when its key was last seen (None: never).
        Returns whether the key entered this window."""
        bucket = ts_ms // self.bucket_ms
        if bucket > self.current:
            self._advance(bucket)
        elif not self.inside(bucket):
            # Later than the window is long: it can never be inside again. Holding its bucket
            # would subtract, on the next advance, totals that were never added.
            return False
        held = self.buckets.get(bucket)
        if held is None:
            held = self._insert(bucket)
        held[0] += 1
        held[1] += amount
        self.totals[0] += 1
        self.totals[1] += amount
        previous = None if previous_ms is None else previous_ms // self.bucket_ms
        if previous is not None and previous >= bucket:
            return False  # seen in this bucket already, or a late event of a key seen since
        old = self.buckets.get(previous) if previous is not None else None
        if old is not None:
            old[2] -= 1
        held[2] += 1
        lo = self.current - self.n
        if bucket > lo and (previous is None or previous <= lo):
            self.totals[2] += 1
            return True
        return False

    def _advance(self, bucket: int) -> None:
        self.current = bucket
        lo, pos, totals, order = bucket - self.n, 0, self.totals, self.order
        while pos < len(order) and order[pos] <= lo:
            count, total, seen = self.buckets.pop(order[pos])
            totals[0] -= count
            totals[1] -= total
            totals[2] -= seen
            pos += 1
        if pos:
            del order[:pos]

    def _insert(self, bucket: int) -> list[float]:
        held = [0, 0.0, 0]
        self.buckets[bucket] = held
        if not self.order or bucket > self.order[-1]:
            self.order.append(bucket)
        else:  # a late event in a bucket not held yet
            insort(self.order, bucket)
        return held


class BucketWindows:
    """Count, sum and distinct keys over several windows, each with buckets of its own width,
    so that state stays small for busy entities: ``len(buckets) <= window / bucket`` per window.

    ``last_seen`` maps each key to the event time it was last seen; the job keeps it in Flink
    map state (with a TTL), the offline path in a dict.
    """

    __slots__ = ("series", "last_seen", "peer_ts", "peers")

    def __init__(
        self,
        windows: tuple[tuple[int, int], ...],
        last_seen: MutableMapping[Hashable, int] | None = None,
    ) -> None:
        self.series = [BucketSeries(window_ms, bucket_ms) for window_ms, bucket_ms in windows]
        self.last_seen = last_seen if last_seen is not None else {}
        # What events of the newest millisecond added, so a simultaneous event leaves them out.
        self.peer_ts = -(2**62)
        self.peers: list[list] = [[0, 0.0, set()] for _ in windows]

    def __getstate__(self) -> tuple:
        return self.series, self.peer_ts, self.peers

    def __setstate__(self, state: tuple) -> None:
        self.series, self.peer_ts, self.peers = state
        self.last_seen = {}

    def add(self, ts_ms: int, amount: float, key: Hashable) -> list[tuple[int, float, int]]:
        """Record an event; per window, ``(count, sum, distinct)`` of the earlier events inside
        it plus this one (events of the same millisecond excluded)."""
        if ts_ms > self.peer_ts:
            self.peer_ts = ts_ms
            self.peers = [[0, 0.0, set()] for _ in self.series]
        peers = self.peers if ts_ms == self.peer_ts else None  # a late event: no peers known
        previous = self.last_seen.get(key)
        if previous is None or ts_ms > previous:
            self.last_seen[key] = ts_ms
        out = []
        for w, series in enumerate(self.series):
            entered = series.add(ts_ms, amount, previous)
            count, total, distinct = series.totals
            if peers is not None:
                peer = peers[w]
                count -= peer[0]
                total -= peer[1]
                distinct -= len(peer[2]) - (key in peer[2])
                peer[0] += 1
                peer[1] += amount
                if entered:
                    peer[2].add(key)
            out.append((int(count), round(total, 6), int(distinct)))
        return out
