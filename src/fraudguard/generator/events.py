"""Events: the generator's internal, columnar form of transactions before they get ids.

Legitimate traffic and every fraud scenario produce :class:`Events`; the stream concatenates,
sorts and numbers them. Columns hold positions into the population, not strings, so the heavy
lifting stays in numpy.

>>> ev = Events.build(ts=[30, 10], card=[0, 1], merchant=[2, 3], terminal=[4, 5],
...                   amount_eur=[1.0, 2.0], online=[False, True], device=[None, "d1"])
>>> ev.sorted().ts.tolist(), len(ev), ev.is_fraud.any()
([10, 30], 2, np.False_)
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np

LEGIT = 0
SOURCES: tuple[str, ...] = ("none", "chargeback", "investigation")
"""Who reports a fraud: the cardholder disputing it, or the bank's own investigators."""


@dataclass(frozen=True, eq=False)
class Events:
    ts: np.ndarray
    """Epoch milliseconds, int64."""
    card: np.ndarray
    merchant: np.ndarray
    terminal: np.ndarray
    amount_eur: np.ndarray
    online: np.ndarray
    device: np.ndarray
    """Object array: device id for online purchases, ``None`` at a terminal."""
    scenario: np.ndarray
    """0 for legitimate, else 1 + the index in :data:`~fraudguard.generator.config.SCENARIOS`."""
    reported_ms: np.ndarray
    """When the fraud is reported (0 for legitimate events)."""
    source: np.ndarray
    """Index into :data:`SOURCES`."""

    @classmethod
    def build(
        cls,
        *,
        ts: Any,
        card: Any,
        merchant: Any,
        terminal: Any,
        amount_eur: Any,
        online: Any,
        device: Any,
        scenario: int = LEGIT,
        reported_ms: int = 0,
        source: int = 0,
    ) -> Events:
        """Events from sequences, with one scenario and report for all of them."""
        n = len(ts)
        dev = np.empty(n, dtype=object)
        dev[:] = list(device) if not isinstance(device, np.ndarray) else device
        return cls(
            ts=np.asarray(ts, dtype=np.int64),
            card=np.asarray(card, dtype=np.int64),
            merchant=np.asarray(merchant, dtype=np.int64),
            terminal=np.asarray(terminal, dtype=np.int64),
            amount_eur=np.asarray(amount_eur, dtype=np.float64),
            online=np.asarray(online, dtype=bool),
            device=dev,
            scenario=np.full(n, scenario, dtype=np.int8),
            reported_ms=np.full(n, reported_ms, dtype=np.int64),
            source=np.full(n, source, dtype=np.int8),
        )

    @classmethod
    def empty(cls) -> Events:
        return cls.build(
            ts=[], card=[], merchant=[], terminal=[], amount_eur=[], online=[], device=[]
        )

    def __len__(self) -> int:
        return len(self.ts)

    @property
    def is_fraud(self) -> np.ndarray:
        return self.scenario != LEGIT

    def select(self, index: np.ndarray | slice) -> Events:
        """The events at ``index`` (a mask or positions)."""
        return Events(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    def sorted(self) -> Events:
        """Ordered by time; ties keep their order, so sorting is reproducible."""
        return self.select(np.argsort(self.ts, kind="stable"))

    @staticmethod
    def concat(parts: list[Events]) -> Events:
        parts = [p for p in parts if len(p)]
        if not parts:
            return Events.empty()
        if len(parts) == 1:
            return parts[0]
        return Events(
            **{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(Events)}
        )
