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

from confluent_kafka import KafkaError, Message

from fraudguard.config import Settings
from fraudguard.control import ThresholdsChange, control_key, parse_control
from fraudguard.errors import ConfigError, ControlMessageError, StackError
from fraudguard.kafka_io import make_producer, read_topic
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
    found = []
    for msg in read_topic(settings, settings.topics.control.name, idle_timeout_s=0.0):
        try:
            change = parse_control(msg.value())
        except ControlMessageError:
            continue
        if isinstance(change, ThresholdsChange):
            found.append((msg.offset() or 0, change))
    return found


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
    topic = settings.topics.control.name
    delivered: list[Message] = []
    errors: list[KafkaError] = []

    def on_delivery(err: KafkaError | None, msg: Message) -> None:
        if err is not None:
            errors.append(err)
        else:
            delivered.append(msg)

    producer = make_producer(settings, **{"linger.ms": 0})
    producer.produce(
        topic, value=change.to_json(), key=control_key(change), on_delivery=on_delivery
    )
    producer.flush(30)
    if errors or not delivered:
        reason = errors[0] if errors else "no delivery report within 30 s"
        raise StackError(f"publishing thresholds to {topic!r} failed: {reason}")
    msg = delivered[0]
    return Published(tiers.version, topic, msg.partition() or 0, msg.offset() or 0, again)
