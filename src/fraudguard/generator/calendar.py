"""When people pay: a daily cycle (quiet nights, peaks at lunch and in the evening) and a weekly
one (Friday and Saturday busy, Sunday quiet, weekend days starting later).

Intensity is defined per minute of the local week and normalised so the average minute is 1;
a card with a rate of 2 transactions a day makes, on average, 2 a day whatever its time zone.

>>> grid = intensity(start_ms=0, minutes=7 * 1440, utc_offset_min=0)
>>> round(float(grid.mean()), 6)
1.0
>>> night, midday = grid[3 * 60], grid[12 * 60]  # 1970-01-01 was a Thursday
>>> bool(night < 0.1 < 1.0 < midday)
True
"""

from __future__ import annotations

import numpy as np

MINUTE_MS = 60_000
DAY_MS = 86_400_000
_MINUTES_PER_WEEK = 7 * 1440
_EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday; Monday is day 0

# Relative activity at the middle of each local hour, 00:00-01:00 first.
# fmt: off
_WORKDAY_HOURS = [
    0.15, 0.08, 0.05, 0.04, 0.05, 0.12, 0.35, 0.70, 0.95, 1.05, 1.15, 1.35,
    1.55, 1.35, 1.15, 1.10, 1.20, 1.40, 1.55, 1.45, 1.15, 0.85, 0.55, 0.30,
]
_WEEKEND_HOURS = [
    0.25, 0.15, 0.08, 0.05, 0.05, 0.07, 0.15, 0.35, 0.65, 0.95, 1.20, 1.40,
    1.50, 1.45, 1.35, 1.30, 1.30, 1.35, 1.45, 1.40, 1.20, 0.90, 0.65, 0.40,
]
# fmt: on
# Monday..Sunday: Friday and Saturday shopping, Sunday shops closed in much of Europe.
_WEEKDAY_LEVEL = [0.94, 0.96, 0.98, 1.00, 1.10, 1.15, 0.80]


def _week_profile() -> np.ndarray:
    # Interpolate between hour centres so the curve has no steps at the full hour.
    centres = np.arange(24) * 60 + 30
    minute = np.arange(1440)
    week = []
    for day, level in enumerate(_WEEKDAY_LEVEL):
        hours = _WEEKEND_HOURS if day >= 5 else _WORKDAY_HOURS
        looped = np.concatenate([[hours[-1]], hours, [hours[0]]])
        xs = np.concatenate([[centres[0] - 60], centres, [centres[-1] + 60]])
        shape = np.interp(minute, xs, looped)
        week.append(level * shape / shape.mean())
    profile = np.concatenate(week)
    return profile / profile.mean()


WEEK_PROFILE: np.ndarray = _week_profile()
"""Intensity for each minute of the local week, Monday 00:00 first, mean 1."""


def intensity(start_ms: int, minutes: int, utc_offset_min: int) -> np.ndarray:
    """Per-minute intensity for ``minutes`` minutes from ``start_ms`` in a given time zone."""
    first = start_ms // MINUTE_MS + utc_offset_min + _EPOCH_WEEKDAY * 1440
    index = (first + np.arange(minutes)) % _MINUTES_PER_WEEK
    return WEEK_PROFILE[index]


def sample_times(
    rng: np.random.Generator, grid: np.ndarray, start_ms: int, end_ms: int, n: int
) -> np.ndarray:
    """``n`` epoch-millisecond instants in ``[start_ms, end_ms)`` drawn with density ``grid``.

    >>> rng = np.random.default_rng(0)
    >>> ts = sample_times(rng, intensity(0, 1440, 0), 0, DAY_MS, 10_000)
    >>> bool(ts.min() >= 0 and ts.max() < DAY_MS)
    True
    >>> night = ((ts // 3_600_000) < 6).mean()
    >>> bool(night < 0.1)
    True
    """
    cdf = np.cumsum(grid)
    minute = np.searchsorted(cdf, rng.random(n) * cdf[-1], side="right")
    ts = start_ms + minute * MINUTE_MS + rng.integers(0, MINUTE_MS, n)
    return np.minimum(ts, end_ms - 1)
