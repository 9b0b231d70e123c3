"""The re-ranker's guard: how far a batch of label updates may move it, and how it must score.

After each batch of labels the re-ranker asks two questions. How far did its parameters move
(L2 norm of the change, absolute and relative to the norm before)? And over the labels of the
most recent accepted batches (labels it has not just learnt from, so a burst of wrong labels
cannot flatter itself), does it now score worse than the base model on the very same examples,
and worse than before the batch? A batch that fails either is undone: the re-ranker falls back
to its last stable snapshot, and the verdict says why. Only accepted batches join the window.

The absolute limit follows the learning-rate schedule: ``max_step`` is the limit at the
initial rate, and after t labels it is ``max_step * lr(t) / lr(0)``. A normal batch's step
shrinks with the rate, so a fixed limit would either refuse the first batches (when the
re-ranker legitimately moves most) or let a burst of wrong labels through later, when the same
burst moves the parameters less but still far more than normal batches do.

Defaults, measured on the synthetic setup of ``tests/scoring/test_reranker.py`` at 1,000 to
200,000 labels learnt: normal batches of 1 to 3,000 labels used at most 0.8 of the step limit;
300 flipped labels in one batch used at least 1.5 times it, 1,000 at least 3.7 times. In
``bench/reranker_eval.py`` (delayed labels, polls every 5 minutes) no batch was refused. The
loss margin (5%) is paired (same labels for both models), so it can be small; the window
(5,000 labels, at least 500 before it counts) is about a day of labels in the bench, minutes
at a large issuer.

>>> guard = GuardConfig(max_step=2.0, max_relative_step=1.0, max_loss_ratio=1.1, min_window=2)
>>> judge(guard, step=0.2, step_limit=0.5, relative_step=0.2, losses=(0.30, 0.31, 0.30), window=9)
>>> judge(guard, step=0.9, step_limit=0.5, relative_step=0.4, losses=None, window=9)
('step', 'step 0.9 > limit 0.5 (max_step 2 scaled by the learning rate)')
>>> judge(guard, step=0.1, step_limit=0.5, relative_step=0.1, losses=(0.40, 0.31, 0.33), window=9)
('loss', 'log loss 0.4 > 1.1 x base 0.31 (and > 0.33 before the batch) over the last 9 labels')
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict, Field


class GuardConfig(BaseModel):
    """When a batch of updates is refused (defaults: see the module docstring)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_step: float = Field(default=3.0, gt=0)
    """Largest L2 norm of the parameter change (weights and intercept) one batch may cause at
    the initial learning rate; after t labels the limit is ``max_step * lr(t) / lr(0)``."""
    max_relative_step: float = Field(default=1.5, gt=0)
    """Largest parameter change relative to the parameters' norm before the batch (the
    untrained re-ranker has norm 1: weight 1 on the base logit), whatever the rate."""
    max_loss_ratio: float = Field(default=1.05, ge=1.0)
    """After a batch, the re-ranker's mean log loss over the window may exceed the base
    model's by at most this factor, unless the batch made it better than it was."""
    window: int = Field(default=5_000, ge=1)
    """How many of the most recent accepted labelled examples the loss check uses."""
    min_window: int = Field(default=500, ge=1)
    """The loss check is skipped until the window holds this many examples (too few labels
    say nothing about a loss difference of a few percent)."""
    history: int = Field(default=8, ge=1)
    """How many stable snapshots are kept to roll back to."""


@dataclass(frozen=True, slots=True)
class GuardVerdict:
    """What one batch of labels did to the re-ranker."""

    accepted: bool
    """The batch's updates were kept (and the result is the new stable snapshot)."""
    reason: str
    """``ok``, ``empty batch``, or why the batch was refused."""
    version: str
    """The re-ranker version in force after the batch."""
    rows: int
    """Labelled examples in the batch."""
    step: float
    """L2 norm of the parameter change the batch caused (before any rollback)."""
    step_limit: float
    """The absolute limit in force for this batch (``max_step`` scaled by the rate)."""
    relative_step: float
    """``step`` divided by the parameters' norm before the batch."""
    rerank_log_loss: float | None
    """Mean log loss over the window of the parameters the batch produced; None while the
    window is shorter than ``min_window``."""
    base_log_loss: float | None
    """Mean log loss of the base model over the same window."""
    window: int
    """Labelled examples the loss check used: those of earlier accepted batches."""
    rolled_back_to: str | None = None
    """The stable version the re-ranker fell back to, when the batch was refused."""

    def __str__(self) -> str:
        losses = (
            f"loss {self.rerank_log_loss:.5f} vs base {self.base_log_loss:.5f}"
            if self.rerank_log_loss is not None and self.base_log_loss is not None
            else "loss not checked"
        )
        head = "accepted" if self.accepted else f"refused ({self.reason})"
        tail = f"; rolled back to {self.rolled_back_to}" if self.rolled_back_to else ""
        return (
            f"re-ranker batch of {self.rows} labels {head}: step {self.step:.4g} "
            f"(limit {self.step_limit:.4g}, relative {self.relative_step:.4g}), {losses} over "
            f"{self.window} labels, "
            f"version {self.version}{tail}"
        )


def judge(
    guard: GuardConfig,
    *,
    step: float,
    step_limit: float,
    relative_step: float,
    losses: tuple[float, float, float] | None,
    window: int,
) -> tuple[str, str] | None:
    """``(check, why)`` for a batch that must be refused, None when it passes.

    ``losses`` are the mean log losses over the window of the re-ranker after the batch, of the
    base model, and of the re-ranker before the batch (None while the window is short).
    ``check`` is ``step`` (the parameters moved too far) or ``loss`` (the re-ranker now scores
    worse than the base, and the batch made it worse); the first failed check names it.
    """
    if not (math.isfinite(step) and math.isfinite(relative_step)):
        return "step", "parameters are not finite"
    if step > step_limit:
        why = f"step {step:.4g} > limit {step_limit:.4g} (max_step {guard.max_step:g} scaled"
        return "step", why + " by the learning rate)"
    if relative_step > guard.max_relative_step:
        why = f"relative step {relative_step:.4g} > max_relative_step {guard.max_relative_step:g}"
        return "step", why
    if losses is None or window < guard.min_window:
        return None
    after, base, before = losses
    # Worse than the base but better than before the batch is progress: refusing it would keep
    # the worse parameters.
    if not math.isfinite(after) or (after > guard.max_loss_ratio * base and after > before):
        return "loss", (
            f"log loss {after:.4g} > {guard.max_loss_ratio:g} x base {base:.4g} "
            f"(and > {before:.4g} before the batch) over the last {window} labels"
        )
    return None


class LabelWindow:
    """The most recent labelled examples, as the re-ranker's inputs (column 0: the base logit).

    A ring buffer of fixed size, so the loss of several parameter vectors over the window is
    one matrix product.

    >>> w = LabelWindow(capacity=3, width=2)
    >>> w.extend(np.array([[0.0, 1], [2.0, 0], [-2.0, 0], [1.0, 1]]), np.array([0, 1, 0, 1]))
    >>> len(w), round(w.base_log_loss(), 4)
    (3, 0.189)
    >>> identity, other = np.array([1.0, 0.0, 0.0]), np.array([1.0, 1.0, -0.5])
    >>> [round(v, 4) for v in w.log_losses(identity, other)]
    [0.189, 0.1606]
    >>> x, y = w.examples()  # oldest first: the first row fell out
    >>> x[:, 0].tolist(), y.tolist()
    ([2.0, -2.0, 1.0], [1.0, 0.0, 1.0])
    """

    def __init__(self, capacity: int, width: int) -> None:
        self._x = np.zeros((capacity, width))
        self._sign = np.zeros(capacity)  # +1 fraud, -1 legitimate
        self._next = 0
        self._size = 0
        self._base: float | None = None

    def __len__(self) -> int:
        return self._size

    def extend(self, x: np.ndarray, y: np.ndarray) -> None:
        """Append rows (oldest first; ``y`` is 1 for fraud); the oldest rows fall out."""
        capacity = len(self._sign)
        if len(y) >= capacity:
            x, y = x[-capacity:], y[-capacity:]
        idx = (self._next + np.arange(len(y))) % capacity
        self._x[idx], self._sign[idx] = x, 2.0 * y - 1.0
        self._next = int((self._next + len(y)) % capacity)
        self._size = min(capacity, self._size + len(y))
        self._base = None

    def examples(self) -> tuple[np.ndarray, np.ndarray]:
        """The rows and labels (1 for fraud) held, oldest first: ``extend`` takes them back."""
        capacity = len(self._sign)
        order = (self._next - self._size + np.arange(self._size)) % capacity
        return self._x[order].copy(), (self._sign[order] + 1.0) / 2.0

    def log_losses(self, *params: np.ndarray) -> list[float]:
        """Mean log loss over the window of each logistic model (its weights, then intercept)."""
        p = np.array(params)
        logit = self._x[: self._size] @ p[:, :-1].T + p[:, -1]
        return _mean_log_loss(logit, self._sign[: self._size, None]).tolist()

    def base_log_loss(self) -> float:
        """Mean log loss of the base model alone (its logit is column 0)."""
        if self._base is None:
            self._base = float(_mean_log_loss(self._x[: self._size, 0], self._sign[: self._size]))
        return self._base


def _mean_log_loss(logit: np.ndarray, sign: np.ndarray) -> np.ndarray:
    # log(1 + exp(-s z)), s = +1 for fraud and -1 otherwise: exact for any logit.
    return np.mean(np.logaddexp(0.0, -sign * logit), axis=0)
