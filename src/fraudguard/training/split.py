"""Splits by time: a model is always judged on payments that happened after those it learnt.

Rows are sorted by time, so every part is a slice. A cut never separates payments stamped in
the same millisecond.

>>> ts = np.arange(10) * 1000
>>> split = split_by_share(ts, validation=0.2, test=0.2)
>>> split.train, split.validation, split.test
(slice(0, 6, None), slice(6, 8, None), slice(8, 10, None))
>>> folds = prequential_folds(ts[:8], folds=3)
>>> [(f.train, f.stop, f.score) for f in folds]  # doctest: +NORMALIZE_WHITESPACE
[(slice(0, 2, None), slice(2, 3, None), slice(3, 4, None)),
 (slice(0, 4, None), slice(4, 5, None), slice(5, 6, None)),
 (slice(0, 6, None), slice(6, 7, None), slice(7, 8, None))]
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from fraudguard.errors import TrainingError


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="seconds")


def _cut(ts_ms: np.ndarray, index: int) -> int:
    """``index`` moved back to the first row sharing its timestamp."""
    if index >= len(ts_ms):
        return len(ts_ms)
    return int(np.searchsorted(ts_ms, ts_ms[index], side="left"))


@dataclass(frozen=True)
class TimeSplit:
    """Three consecutive periods: train, then validation (early stopping), then test."""

    train: slice
    validation: slice
    test: slice

    def parts(self) -> dict[str, slice]:
        return {"train": self.train, "validation": self.validation, "test": self.test}

    def describe(self, ts_ms: np.ndarray, y: np.ndarray) -> dict[str, dict[str, Any]]:
        """Rows, frauds and first/last event time of each part."""
        return {
            name: {
                "rows": int(part.stop - part.start),
                "frauds": int(y[part].sum()),
                "first": _iso(int(ts_ms[part.start])),
                "last": _iso(int(ts_ms[part.stop - 1])),
            }
            for name, part in self.parts().items()
        }


def _checked(ts_ms: np.ndarray, a: int, b: int) -> TimeSplit:
    n = len(ts_ms)
    split = TimeSplit(slice(0, a), slice(a, b), slice(b, n))
    empty = [name for name, part in split.parts().items() if part.stop <= part.start]
    if empty:
        raise TrainingError(f"the time split leaves {' and '.join(empty)} empty ({n} rows)")
    return split


def split_by_share(ts_ms: np.ndarray, validation: float = 0.2, test: float = 0.2) -> TimeSplit:
    """The last ``test`` share of rows is the test period, the ``validation`` share before it
    the validation period, the rest is for training."""
    if not (0 < validation < 1 and 0 < test < 1 and validation + test < 1):
        raise TrainingError("validation and test shares must be in (0, 1) and sum below 1")
    n = len(ts_ms)
    a = _cut(ts_ms, round(n * (1 - validation - test)))
    b = _cut(ts_ms, round(n * (1 - test)))
    return _checked(ts_ms, a, b)


def split_at(ts_ms: np.ndarray, validation_start_ms: int, test_start_ms: int) -> TimeSplit:
    """Validation from ``validation_start_ms``, test from ``test_start_ms`` (event times)."""
    if validation_start_ms >= test_start_ms:
        raise TrainingError("the validation period must start before the test period")
    a = int(np.searchsorted(ts_ms, validation_start_ms, side="left"))
    b = int(np.searchsorted(ts_ms, test_start_ms, side="left"))
    return _checked(ts_ms, a, b)


@dataclass(frozen=True)
class Fold:
    """One prequential step: learn from everything up to a time, stop early on the next block's
    first half, score its second half (so the score never saw the early stopping)."""

    train: slice
    stop: slice
    score: slice


def prequential_folds(ts_ms: np.ndarray, folds: int = 3) -> list[Fold]:
    """``folds`` time-ordered steps over ``ts_ms``: blocks of equal rows, expanding training.

    The rows are cut into ``folds + 1`` blocks; step ``i`` trains on blocks ``0..i`` and is
    judged on block ``i + 1``, as a model retrained every period would be.
    """
    if folds < 1:
        raise TrainingError("prequential validation needs at least one fold")
    n = len(ts_ms)
    edges = [_cut(ts_ms, round(n * i / (folds + 1))) for i in range(folds + 2)]
    out = []
    for i in range(folds):
        start, end = edges[i + 1], edges[i + 2]
        mid = _cut(ts_ms, (start + end) // 2)
        if not (0 < start < mid < end):
            raise TrainingError(f"too few distinct times for {folds} prequential folds")
        out.append(Fold(slice(0, start), slice(start, mid), slice(mid, end)))
    return out
