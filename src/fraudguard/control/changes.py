"""Every live change to the running job, through one API: threshold tiers, re-ranker snapshots
and the champion model, each published, listed and rolled back here.

The CLI, the re-ranker learner and the panel all change the job through these functions, so a
change is made, refused and recorded the same way whoever makes it.

- **Threshold tiers** go on the ``control`` topic. A version names one set of tiers for good:
  decisions record only the version, so publishing different tiers under a version already on
  the topic is refused, and publishing the same tiers again is how a rollback is done (the job
  applies the newest message). The check reads the topic before producing, so two people
  publishing the same new version at the same instant could both pass it; the panel publishes
  through one process.
- **Re-ranker snapshots** go on the ``control`` topic too (the learner publishes accepted ones
  inside its own Kafka transaction); a rollback publishes an earlier one again.
- **The champion model** is the registry's pointer, which the job's JVM follows by itself
  (``io.fraudguard.scoring.ChampionModel``); promotion and rollback move the pointer.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

from fraudguard.config import Settings
from fraudguard.control.messages import ModelNotice, ThresholdsChange
from fraudguard.control.reranker_message import OFFSET_METRIC, RerankerChange
from fraudguard.control.topic import publish_control, read_control
from fraudguard.decision.tiers import ThresholdTiers
from fraudguard.errors import ConfigError, RerankerError
from fraudguard.models.metadata import ChampionPointer
from fraudguard.models.registry import ModelRegistry
from fraudguard.reranker.model import RerankerSnapshot


@dataclass(frozen=True, slots=True)
class Published:
    """Where a thresholds message landed."""

    version: str
    topic: str
    partition: int
    offset: int
    again: bool
    """True when the same tiers were already on the topic (a rollback or a repeat)."""


@dataclass(frozen=True, slots=True)
class ChampionChange:
    """The champion before and after a promotion or rollback."""

    before: str | None
    after: str | None
    pointer: ChampionPointer


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


def roll_back_tiers(settings: Settings, to: str | None = None) -> Published:
    """Publish earlier tiers again: version ``to``, or the version before the one in force."""
    published = [change.tiers for _, change in published_tiers(settings)]
    if not published:
        raise ConfigError("no thresholds were ever published")
    versions = [tiers.version for tiers in published]
    if to is None:
        earlier = [tiers for tiers in published if tiers.version != versions[-1]]
        if not earlier:
            raise ConfigError(f"no thresholds before {versions[-1]} to roll back to")
        return publish_tiers(settings, earlier[-1])
    if to not in versions:
        raise ConfigError(f"thresholds version {to!r} was never published (known: {versions})")
    return publish_tiers(settings, published[versions.index(to)])


def published_rerankers(settings: Settings) -> list[RerankerChange]:
    """Every re-ranker snapshot on the control topic with its base model, oldest first
    (repeats included)."""
    return [change for _, change in read_control(settings, RerankerChange)]


def roll_back_reranker(settings: Settings, to: str | None = None) -> RerankerSnapshot:
    """Publish an earlier snapshot again: version ``to``, or the one before the one in force.

    The republished snapshot keeps the ``labels`` offsets of the one in force, so the learner
    carries on from the rolled-back parameters with the labels after them, not the labels
    that led away from them.
    """
    changes = published_rerankers(settings)
    if not changes:
        raise RerankerError("no re-ranker snapshot was ever published")
    current = changes[-1].snapshot
    versions = [c.snapshot.version for c in changes]
    if to is None:
        earlier = [c for c in changes if c.snapshot.version != current.version]
        if not earlier:
            raise RerankerError(f"no snapshot before {current.version} to roll back to")
        target = earlier[-1]
    elif to in versions:
        target = changes[versions.index(to)]
    else:
        raise RerankerError(f"re-ranker version {to!r} was never published (known: {versions})")
    offsets = {k: v for k, v in current.metrics.items() if k.startswith(OFFSET_METRIC)}
    kept = {k: v for k, v in target.snapshot.metrics.items() if not k.startswith(OFFSET_METRIC)}
    republished = replace(target.snapshot, metrics={**kept, **offsets})
    publish_control(settings, RerankerChange(republished, target.base_model_version))
    return republished


def promote_model(settings: Settings, version: str) -> ChampionChange:
    """Make ``version`` the champion (refused if it was trained on another feature set)."""
    registry = ModelRegistry.from_settings(settings)
    before = registry.pointer().champion
    pointer = registry.promote(version)
    return ChampionChange(before, pointer.champion, pointer)


def set_challenger(settings: Settings, version: str | None) -> ChampionChange:
    """Score ``version`` as the shadow challenger beside the champion (None: no challenger);
    the job follows the registry's pointer within a second, and decides as before."""
    registry = ModelRegistry.from_settings(settings)
    before = registry.pointer().challenger
    pointer = registry.set_challenger(version)
    return ChampionChange(before, pointer.challenger, pointer)


def record_model_action(
    settings: Settings, action: str, version: str | None, reasons: Sequence[str], at_ms: int
) -> None:
    """Log what the automatic model lifecycle did (or why it did nothing) on the control
    topic, the record of every change."""
    publish_control(settings, ModelNotice(action, version, tuple(reasons), at_ms))


def published_model_notices(settings: Settings) -> list[ModelNotice]:
    """Every automatic model action (or refusal) on the control topic, oldest first."""
    return [notice for _, notice in read_control(settings, ModelNotice)]


def roll_back_model(settings: Settings) -> ChampionChange:
    """Return to the previous champion."""
    registry = ModelRegistry.from_settings(settings)
    before = registry.pointer().champion
    pointer = registry.rollback()
    return ChampionChange(before, pointer.champion, pointer)
