"""Exploration: approve a small, capped share of would-be reviews and blocks, replayably.

Labels only come back for payments that went through, so a model trained on what the tiers
let through never learns what it would have missed. Releasing a small random share of the
transactions it stops, and recording the probability of what was done, lets training weight
those rows (inverse propensity) and measure the tiers without bias.

**The choice.** ``draw(seed, txn_id)`` is a keyed BLAKE2b hash of the transaction id, read as a
number uniform in [0, 1). A transaction is released when it is *eligible* and its draw is
below ``share``. The same seed and id always give the same draw, so a replay after a failure
releases the same transactions; another seed releases others.

**Eligible** means all of: the tiers said ``review`` or ``block``; ``share > 0``; the
transaction's event-time window is the newest one the state has seen (a late transaction's
window tally is gone, so it is never released: the caps stay true for every window); and
releasing it keeps the window within both caps (at most ``max_count_per_window`` releases and
at most ``max_amount_eur_per_window`` euro released). Windows are tumbling, aligned to the
epoch: window ``ts_ms // window_ms``.

**Propensity** is the probability, given the state before the transaction, that the action
recorded was taken:

- released (decision ``approve``, ``explored`` True): ``share``;
- eligible, not released (decision unchanged): ``1 - share``;
- not eligible (approved by the tiers, a cap reached, late, ``share`` 0): ``1.0``.

The cap state is a small picklable :class:`ExposureState` (window, count, cents). It changes
only when a newer window begins or a transaction is released, so the same transactions in
the same order give the same releases. The caps bound what one state object releases: with
one state per parallel operator instance, the total is at most that many times the caps.

>>> policy = ExplorationPolicy(share=0.5, seed=7, max_count_per_window=2,
...                            max_amount_eur_per_window=1000.0, window_ms=60_000)
>>> state = policy.new_state()
>>> [draw(7, f"t{i}") < 0.5 for i in range(4)]
[True, True, False, False]
>>> [policy.apply(state, "block", f"t{i}", ts_ms=0, amount_eur=10.0) for i in (2, 0, 1, 4)]
... # doctest: +NORMALIZE_WHITESPACE
[Exploration(decision='block', explored=False, propensity=0.5),
 Exploration(decision='approve', explored=True, propensity=0.5),
 Exploration(decision='approve', explored=True, propensity=0.5),
 Exploration(decision='block', explored=False, propensity=1.0)]
>>> state
ExposureState(window=0, count=2, cents=2000)
>>> policy.apply(state, "review", "t4", ts_ms=60_000, amount_eur=10.0)  # a new window
Exploration(decision='approve', explored=True, propensity=0.5)
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

from fraudguard.errors import ConfigError

_STOPPING = frozenset({"review", "block"})


def draw(seed: int, txn_id: str) -> float:
    """The transaction's uniform number in [0, 1) under ``seed`` (keyed BLAKE2b, 53 bits).

    >>> draw(7, "t1") == draw(7, "t1") != draw(8, "t1")
    True
    """
    digest = hashlib.blake2b(
        txn_id.encode("utf-8"), digest_size=8, key=seed.to_bytes(8, "big")
    ).digest()
    # 53 bits fill a float's mantissa exactly: 64 bits could round up to 1.0.
    return (int.from_bytes(digest, "big") >> 11) / (1 << 53)


@dataclass(slots=True)
class ExposureState:
    """What has been released in the current window. Small and picklable: it lives in Flink
    state."""

    window: int = -(2**63)
    """Index of the newest event-time window seen (``ts_ms // window_ms``)."""
    count: int = 0
    """Transactions released in that window."""
    cents: int = 0
    """Euro cents released in that window (integers, so sums are exact and replayable)."""


@dataclass(frozen=True, slots=True)
class Exploration:
    """The decision to record, whether exploration released it, and its propensity."""

    decision: str
    explored: bool
    propensity: float


@dataclass(frozen=True, slots=True)
class ExplorationPolicy:
    """Release ``share`` of would-be reviews and blocks, within caps per event-time window."""

    share: float
    """Probability of releasing an eligible transaction, in [0, 1]; 0 turns exploration off."""
    seed: int
    """Key of the draw, in [0, 2**64): changing it releases other transactions."""
    max_count_per_window: int
    max_amount_eur_per_window: float
    window_ms: int

    def __post_init__(self) -> None:
        if isinstance(self.share, bool) or not 0.0 <= self.share <= 1.0:
            raise ConfigError(f"exploration share: {self.share!r} must be in [0, 1]")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ConfigError(f"exploration seed: {self.seed!r} must be an integer")
        if not 0 <= self.seed < 2**64:
            raise ConfigError(f"exploration seed: {self.seed} must be in [0, 2**64)")
        if not isinstance(self.max_count_per_window, int) or self.max_count_per_window < 0:
            raise ConfigError(
                f"exploration max_count_per_window: {self.max_count_per_window!r} "
                "must be an integer >= 0"
            )
        amount = self.max_amount_eur_per_window
        if isinstance(amount, bool) or not (math.isfinite(amount) and amount >= 0):
            raise ConfigError(
                f"exploration max_amount_eur_per_window: {amount!r} must be a number >= 0"
            )
        if isinstance(self.window_ms, bool) or not isinstance(self.window_ms, int):
            raise ConfigError(f"exploration window_ms: {self.window_ms!r} must be an integer")
        if self.window_ms <= 0:
            raise ConfigError(f"exploration window_ms: {self.window_ms} must be positive")

    def new_state(self) -> ExposureState:
        return ExposureState()

    def apply(
        self, state: ExposureState, decision: str, txn_id: str, ts_ms: int, amount_eur: float
    ) -> Exploration:
        """The decision to record for a transaction the tiers decided; updates ``state`` in
        place when it releases."""
        window = ts_ms // self.window_ms
        if window > state.window:  # a new window starts with nothing released
            state.window, state.count, state.cents = window, 0, 0
        if decision not in _STOPPING or self.share <= 0.0 or window < state.window:
            return Exploration(decision, False, 1.0)
        cents = round(amount_eur * 100)
        if state.count + 1 > self.max_count_per_window or state.cents + cents > round(
            self.max_amount_eur_per_window * 100
        ):
            return Exploration(decision, False, 1.0)
        if draw(self.seed, txn_id) < self.share:
            state.count += 1
            state.cents += cents
            return Exploration("approve", True, self.share)
        return Exploration(decision, False, 1.0 - self.share)
