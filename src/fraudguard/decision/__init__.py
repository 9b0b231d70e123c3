"""Threshold tiers: from a score to approve, review or block, per segment, versioned in files.

See :mod:`fraudguard.decision.tiers` for the rule (and the precedence of overrides),
:mod:`fraudguard.decision.tiers_file` for the file format, :mod:`fraudguard.decision.whatif`
for comparing a candidate with the tiers in force.
"""

from fraudguard.decision.tiers import (
    BUILTIN_TIERS,
    DEFAULT_TIER,
    AmountBand,
    Override,
    ThresholdTiers,
)
from fraudguard.decision.tiers_file import load_tiers, tiers_from_dict, tiers_from_yaml
from fraudguard.decision.whatif import Outcome, WhatIf, what_if

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
