"""Threshold tiers: from a score to approve, review or block, per segment, versioned in files.

See :mod:`fraudguard.thresholds.tiers` for the rule (and the precedence of overrides),
:mod:`fraudguard.thresholds.loading` for the file format, :mod:`fraudguard.thresholds.whatif`
for comparing a candidate with the tiers in force.
"""

from fraudguard.thresholds.loading import load_tiers, tiers_from_dict, tiers_from_yaml
from fraudguard.thresholds.tiers import (
    BUILTIN_TIERS,
    DEFAULT_TIER,
    AmountBand,
    Override,
    ThresholdTiers,
)
from fraudguard.thresholds.whatif import Outcome, WhatIf, what_if

__all__ = [
    "BUILTIN_TIERS",
    "DEFAULT_TIER",
    "AmountBand",
    "Outcome",
    "Override",
    "ThresholdTiers",
    "WhatIf",
    "load_tiers",
    "tiers_from_dict",
    "tiers_from_yaml",
    "what_if",
]
