"""The model governor as a service (``fraudguard governor run``): the committed decisions and
the labels in, the automatic promotion or rollback acted on the registry and recorded on
``control``, every ``governor.interval_s``.

The round is :mod:`~fraudguard.governor.round` (no Kafka); this module is the loop around it.
At start it reads ``decisions`` (``read_committed``: only what the job committed) from the
first record of the last ``governor.window_hours``, ``labels`` and ``control`` from their
beginning. Each round then:

1. reads on to the end of the three topics: decisions into the window, labels into the book,
   and from ``control`` the newest threshold tiers (the tiers in force, as the job applies
   them) and the newest model notice (what the lifecycle last said);
2. drops the decisions older than the window and the labels no longer needed;
3. runs :func:`~fraudguard.models.governor.govern` over them with the gates' settings (nothing
   happens while the registry is frozen);
4. records the action on ``control`` when it is a promotion or a rollback, or when the reason
   it holds changed (:func:`~fraudguard.governor.round.worth_recording`).

The service holds no state of its own that a restart would lose: the window is read again,
the registry is the champion's record, and the newest notice is on ``control``. A round is
not a transaction: killed between acting on the registry and recording the notice, the
action stands without its notice (the registry's history still has it).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from fraudguard.config import Settings
from fraudguard.control.changes import record_model_action
from fraudguard.control.messages import ModelNotice, ThresholdsChange
from fraudguard.control.topic import parse_changes
from fraudguard.decision import BUILTIN_TIERS, ThresholdTiers
from fraudguard.errors import ConfigError
from fraudguard.governor.round import governor_round, worth_recording
from fraudguard.governor.window import DecisionWindow, LabelBook
from fraudguard.models.governor import ModelAction
from fraudguard.models.registry import ModelRegistry
from fraudguard.streams.kafka import TopicTail, assigned_consumer, offsets_at

log = logging.getLogger(__name__)
HOUR_MS = 3_600_000


def status_path(settings: Settings) -> Path:
    """Where the service writes its status after every round (``fraudguard governor status``
    and the demo read it)."""
    return settings.run_dir / f"fraudguard-governor-{settings.topics.control.name}.json"


@dataclass
class GovernorStatus:
    """What the service has done since it started, and what it judged by last."""

    rounds: int = 0
    recorded: int = 0
    """Notices this process put on ``control``."""
    last: dict[str, Any] | None = None
    """The newest round's action (:meth:`ModelAction.to_dict` without the comparison)."""
    decisions: int = 0
    labels: int = 0
    refused: dict[str, int] = field(default_factory=dict)
    tiers_version: str = BUILTIN_TIERS.version

    def to_dict(self) -> dict[str, Any]:
        return {"pid": os.getpid(), "updated_at_ms": int(time.time() * 1000),
                "rounds": self.rounds, "recorded": self.recorded, "last": self.last,
                "decisions": self.decisions, "labels": self.labels, "refused": self.refused,
                "tiers_version": self.tiers_version}  # fmt: skip


class ControlView:
    """What the governor reads of ``control``: the tiers in force and the newest model notice."""

    def __init__(self) -> None:
        self.tiers: ThresholdTiers = BUILTIN_TIERS
        self.last_notice: ModelNotice | None = None

    def take(self, messages: list[tuple[int, bytes | None]]) -> None:
        for _, change in parse_changes(ThresholdsChange, messages):
            self.tiers = change.tiers
        for _, notice in parse_changes(ModelNotice, messages):
            self.last_notice = notice


class GovernorService:
    """The loop around :func:`~fraudguard.governor.round.governor_round`."""

    def __init__(self, settings: Settings) -> None:
        if settings.governor.window_hours < settings.gates.watch_hours:
            raise ConfigError(
                f"governor.window_hours ({settings.governor.window_hours:g}) is shorter than "
                f"gates.watch_hours ({settings.gates.watch_hours:g}): a new champion's rates "
                "would be judged on part of its watch"
            )
        self.settings = settings
        self.status = GovernorStatus()

    def run(
        self, stop: Callable[[], bool] = lambda: False, rounds: int | None = None
    ) -> GovernorStatus:
        """Run rounds until ``stop()`` (checked every 0.2 s between rounds), or ``rounds``."""
        settings, topics = self.settings, self.settings.topics
        window_ms = int(settings.governor.window_hours * HOUR_MS)
        window = DecisionWindow(window_ms, settings.governor.max_decisions)
        labels, control = LabelBook(), ControlView()
        registry = ModelRegistry.from_settings(settings)
        start = offsets_at(settings, topics.decisions.name, int(time.time() * 1000) - window_ms)
        tails: list[TopicTail] = []
        try:
            # A week of decisions may take minutes to read the first time.
            tails.append(TopicTail(assigned_consumer(
                settings, topics.decisions.name, start_offsets=start), timeout_s=600))  # fmt: skip
            tails.append(TopicTail(assigned_consumer(settings, topics.labels.name)))
            tails.append(TopicTail(assigned_consumer(settings, topics.control.name)))
            decisions, label_tail, control_tail = tails
            while not stop():
                began = time.monotonic()
                for _, _, value in decisions.drain():
                    window.take(value)
                for _, _, value in label_tail.drain():
                    labels.take(value)
                control.take([(offset, value) for _, offset, value in control_tail.drain()])
                action = self.round(window, labels, control, registry)
                self._report(window, labels, control, action)
                if rounds is not None and self.status.rounds >= rounds:
                    break
                while not stop() and time.monotonic() - began < settings.governor.interval_s:
                    time.sleep(0.2)
        finally:
            for tail in tails:
                tail.close()
        return self.status

    def round(
        self, window: DecisionWindow, labels: LabelBook, control: ControlView,
        registry: ModelRegistry,
    ) -> ModelAction:  # fmt: skip
        """One round over what was read: judge, act, and record what is worth recording."""
        now_ms = int(time.time() * 1000)
        window.prune(now_ms)
        labels.prune(window.txn_ids(), now_ms - window.window_ms)
        action = governor_round(window, labels, registry, control.tiers, self.settings.gates,
                                now_ms)  # fmt: skip
        if worth_recording(action, control.last_notice):
            record_model_action(self.settings, action.action, action.version, action.reasons,
                                action.at_ms)  # fmt: skip
            # The notice is read back next round; meanwhile it is the newest.
            control.last_notice = ModelNotice(action.action, action.version,
                                              tuple(action.reasons), action.at_ms)  # fmt: skip
            self.status.recorded += 1
            log.info("governor: %s %s: %s", action.action, action.version or "",
                     "; ".join(action.reasons))  # fmt: skip
        return action

    def _report(
        self, window: DecisionWindow, labels: LabelBook, control: ControlView, action: ModelAction
    ) -> None:
        status = self.status
        status.rounds += 1
        status.last = {k: v for k, v in action.to_dict().items() if k != "comparison"}
        status.decisions, status.labels = len(window), len(labels.reported)
        status.refused = {"decisions": window.refused, "labels": labels.refused}
        status.tiers_version = control.tiers.version
        path = status_path(self.settings)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".tmp")
        partial.write_bytes(orjson.dumps(status.to_dict()))
        partial.replace(path)


def describe(status: dict[str, Any]) -> str:
    """One line of a status (:meth:`GovernorStatus.to_dict`), as the CLI and the demo show it.

    >>> describe({"rounds": 3, "recorded": 1, "decisions": 900, "labels": 12,
    ...           "last": {"action": "none", "version": "m2", "reasons": ["no challenger"]}})
    'rounds=3 recorded=1 decisions=900 labels=12 last=none m2: no challenger'
    """
    last = status.get("last") or {}
    said = f"{last.get('action', '-')} {last.get('version') or ''}".rstrip()
    reasons = "; ".join(last.get("reasons", []))
    return (
        f"rounds={status.get('rounds', 0)} recorded={status.get('recorded', 0)} "
        f"decisions={status.get('decisions', 0)} labels={status.get('labels', 0)} "
        f"last={said}" + (f": {reasons}" if reasons else "")
    )
