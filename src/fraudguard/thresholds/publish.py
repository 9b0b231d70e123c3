"""Publishing threshold tiers to the running job on the ``control`` topic.

A version names one set of tiers for good: decisions record only the version, so publishing
different tiers under a version already on the topic is refused. Publishing the same tiers
again is how a rollback is done (the job applies the newest message). The check reads the
topic before producing, so two people publishing the same new version at the same instant
could both pass it; the panel should publish through one process.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from fraudguard.config import Settings
from fraudguard.control import ThresholdsChange
from fraudguard.control_log import publish_control, read_control
from fraudguard.errors import ConfigError
from fraudguard.thresholds.tiers import ThresholdTiers


@dataclass(frozen=True, slots=True)
class Published:
    """Where a thresholds message landed."""

    version: str
    topic: str
    partition: int
    offset: int
    again: bool
    """True when the same tiers were already on the topic (a rollback or a repeat)."""


def published_tiers(settings: Settings) -> list[tuple[int, ThresholdsChange]]:
    """Every thresholds message on the control topic, oldest first, with its offset.

    Messages that do not parse are left out: they were never applied, so they bind nothing.
    """
    return read_control(settings, ThresholdsChange)


def publish_tiers(
    settings: Settings, tiers: ThresholdTiers, issued_at_ms: int | None = None
) -> Published:
    """Produce ``tiers`` to the control topic and wait until Kafka has it."""
    again = False
    for offset, change in published_tiers(settings):
        if change.tiers.version != tiers.version:
            continue
        if change.tiers != tiers:
            raise ConfigError(
                f"thresholds version {tiers.version!r} was already published with different "
                f"tiers (control offset {offset}); give the changed file a new version"
            )
        again = True
    change = ThresholdsChange(tiers, issued_at_ms or int(time.time() * 1000))
    where = publish_control(settings, change)
    return Published(tiers.version, where.topic, where.partition, where.offset, again)
