"""One round of the governor service, without Kafka: the window and the labels into
:func:`~fraudguard.models.governor.govern`, and whether what it says is worth a control
message.

A promotion or a rollback is always recorded. A round that changes nothing is recorded only
when the reason it holds changed (:func:`holding`: the reasons without their figures), so the
``control`` topic, the record of every change, says "frozen", "sample too small", "no better"
once each, not once a minute.
"""

from __future__ import annotations

from fraudguard.config import GateSettings
from fraudguard.control.messages import ModelNotice
from fraudguard.decision.tiers import ThresholdTiers
from fraudguard.errors import ModelError
from fraudguard.governor.window import DecisionWindow, LabelBook
from fraudguard.models.governor import DecisionLog, ModelAction, govern
from fraudguard.models.registry import ModelRegistry

Holding = tuple[str, str | None, tuple[str, ...]]


def governor_round(
    window: DecisionWindow, labels: LabelBook, registry: ModelRegistry, tiers: ThresholdTiers,
    gates: GateSettings, now_ms: int,
) -> ModelAction:  # fmt: skip
    """Apply the gates to the window with the labels reported by ``now_ms``, acting on the
    registry (``govern`` does nothing while it is frozen). What cannot be judged (no decision of
    this champion and challenger in the window, a model without its compiled trees) is a round
    that holds, with the reason, not an error: the service carries on."""
    log = DecisionLog.from_table(window.table(), labels.reported, now_ms, "the decisions window")
    try:
        return govern(log, registry, tiers, gates, now_ms=now_ms)
    except ModelError as exc:
        reason = str(exc)
    except FileNotFoundError as exc:  # a model without compiled trees: its cost is unknown
        reason = f"a model's file is missing: {exc.filename}"
    return ModelAction("none", registry.pointer().challenger, [reason], now_ms)


def holding(action: str, version: str | None, reasons: tuple[str, ...] | list[str]) -> Holding:
    """What a round says, without its figures: the action, the version and each reason up to
    its first colon.

    >>> holding("none", "m2", ["unbiased sample too small: 12 labelled explored decisions < 30"])
    ('none', 'm2', ('unbiased sample too small',))
    >>> holding("none", None, ["frozen: incident 42"])
    ('none', None, ('frozen',))
    """
    return action, version, tuple(reason.split(":", 1)[0] for reason in reasons)


def worth_recording(action: ModelAction, last: ModelNotice | None) -> bool:
    """Whether ``action`` goes to the control topic, given the newest model notice there.

    >>> last = ModelNotice("none", "m2", ("unbiased sample too small: 12 < 30",), 0)
    >>> worth_recording(ModelAction("none", "m2", ["unbiased sample too small: 13 < 30"]), last)
    False
    >>> worth_recording(ModelAction("none", "m2", ["no better on the unbiased sample: AP"]), last)
    True
    >>> worth_recording(ModelAction("promote", "m2", ["AP 0.6 vs 0.4"]), None)
    True
    """
    if action.action != "none" or last is None:
        return True
    now = holding(action.action, action.version, action.reasons)
    return now != holding(last.action, last.version, last.reasons)
