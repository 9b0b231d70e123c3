"""Threshold tiers: approve below ``review``, review up to ``block``, block from ``block`` on.

>>> tiers = ThresholdTiers(version="t1", review=0.5, block=0.8)
>>> [tiers.decide(s) for s in (0.1, 0.5, 0.79, 0.8)]
['approve', 'review', 'review', 'block']
>>> ThresholdTiers(version="bad", review=0.9, block=0.8)
Traceback (most recent call last):
...
fraudguard.errors.ConfigError: thresholds 'bad': review (0.9) must be below block (0.8)
"""

from __future__ import annotations

from dataclasses import dataclass

from fraudguard.errors import ConfigError


@dataclass(frozen=True, slots=True)
class ThresholdTiers:
    version: str
    review: float
    block: float

    def __post_init__(self) -> None:
        for name in ("review", "block"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ConfigError(
                    f"thresholds {self.version!r}: {name} ({value}) must be in [0, 1]"
                )
        if self.review >= self.block:
            raise ConfigError(
                f"thresholds {self.version!r}: review ({self.review}) "
                f"must be below block ({self.block})"
            )

    def decide(self, score: float) -> str:
        if score >= self.block:
            return "block"
        if score >= self.review:
            return "review"
        return "approve"


BUILTIN_TIERS = ThresholdTiers(version="builtin-v1", review=0.5, block=0.8)
"""Used until fraud ops publish tiers from ``thresholds/``."""
