"""Answer each transaction id once, however often a payment system retries it.

>>> seen = SeenTransactions(ttl_ms=1000)
>>> seen.first_time("t1", ts_ms=0), seen.first_time("t1", ts_ms=10), seen.first_time("t2", ts_ms=20)
(True, False, True)
>>> seen.first_time("t1", ts_ms=5000)  # remembered only for the TTL (in event time)
True
"""

from __future__ import annotations


class SeenTransactions:
    """Transaction ids seen for one key (one card) within the last ``ttl_ms`` of event time.

    Kept inside the card's keyed state, so a retry (same card, same id) is recognised without a
    second shuffle, and the memory per card stays bounded by its traffic over the TTL.
    """

    __slots__ = ("ttl_ms", "_seen", "_max_ts")

    def __init__(self, ttl_ms: int) -> None:
        self.ttl_ms = ttl_ms
        self._seen: dict[str, int] = {}
        self._max_ts = 0

    def first_time(self, txn_id: str, ts_ms: int) -> bool:
        """Record ``txn_id``; False when it was already seen within the TTL."""
        if ts_ms > self._max_ts:
            self._max_ts = ts_ms
            self._expire()
        if txn_id in self._seen:
            return False
        self._seen[txn_id] = ts_ms
        return True

    def _expire(self) -> None:
        horizon = self._max_ts - self.ttl_ms
        # dicts keep insertion order, which is nearly event order for one card; stop at the
        # first id still inside the horizon instead of scanning everything.
        stale = []
        for txn_id, ts in self._seen.items():
            if ts >= horizon:
                break
            stale.append(txn_id)
        for txn_id in stale:
            del self._seen[txn_id]

    def __len__(self) -> int:
        return len(self._seen)
