"""Time splits: every part after the one before it, no timestamp cut in two."""

from __future__ import annotations

import numpy as np
import pytest

from fraudguard.errors import TrainingError
from fraudguard.training.split import prequential_folds, split_at, split_by_share


def times(n: int = 1000, seed: int = 0) -> np.ndarray:
    # Many payments share a millisecond, so cuts have to move.
    return np.sort(np.random.default_rng(seed).integers(0, 200, n))


def test_share_split_is_ordered_and_keeps_equal_timestamps_together() -> None:
    ts = times()
    split = split_by_share(ts, validation=0.2, test=0.2)
    assert split.train.start == 0 and split.train.stop == split.validation.start
    assert split.validation.stop == split.test.start and split.test.stop == len(ts)
    for a, b in ((split.train, split.validation), (split.validation, split.test)):
        assert ts[a.stop - 1] < ts[b.start]
    assert abs(split.test.stop - split.test.start - 200) < 20


def test_explicit_dates_split_at_those_times() -> None:
    ts = np.arange(100) * 10
    split = split_at(ts, validation_start_ms=500, test_start_ms=800)
    assert (split.train, split.validation, split.test) == (
        slice(0, 50),
        slice(50, 80),
        slice(80, 100),
    )
    with pytest.raises(TrainingError, match="test empty"):
        split_at(ts, 500, 5000)
    with pytest.raises(TrainingError, match="before"):
        split_at(ts, 800, 500)


def test_prequential_folds_train_on_the_past_and_score_the_future() -> None:
    ts = times(2000, seed=1)
    folds = prequential_folds(ts, folds=4)
    assert len(folds) == 4
    for i, fold in enumerate(folds):
        assert fold.train.start == 0
        assert fold.train.stop == fold.stop.start and fold.stop.stop == fold.score.start
        assert ts[fold.train.stop - 1] < ts[fold.stop.start] < ts[fold.score.start]
        if i:
            assert fold.train.stop > folds[i - 1].train.stop  # expanding
    assert folds[-1].score.stop == len(ts)


def test_too_few_distinct_times_is_a_clear_error() -> None:
    with pytest.raises(TrainingError, match="prequential"):
        prequential_folds(np.zeros(50, dtype=np.int64), folds=3)
