"""Reading and writing the ``control`` topic: the log of every change a running job applies.

:mod:`fraudguard.control.messages` says what a message is; this module moves messages to and
from Kafka, for the commands that publish changes (thresholds, re-ranker snapshots) and the
learner that follows them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeVar

from confluent_kafka import KafkaError, Message, Producer

from fraudguard.config import Settings
from fraudguard.control.messages import ControlMessage, control_key, parse_control
from fraudguard.errors import ControlMessageError, StackError
from fraudguard.streams.kafka import make_producer, read_topic

C = TypeVar("C", bound=ControlMessage)


@dataclass(frozen=True, slots=True)
class Delivered:
    """Where a control message landed."""

    topic: str
    partition: int
    offset: int


def read_control(settings: Settings, kind: type[C]) -> list[tuple[int, C]]:
    """Every message of type ``kind`` on the control topic, oldest first, with its offset."""
    messages = read_topic(settings, settings.topics.control.name, idle_timeout_s=0.0)
    return parse_changes(kind, ((msg.offset() or 0, msg.value()) for msg in messages))


def parse_changes(
    kind: type[C], messages: Iterable[tuple[int, bytes | None]]
) -> list[tuple[int, C]]:
    """The ``(offset, change)`` of each message of type ``kind`` among ``(offset, value)``.

    Messages that do not parse are left out: the job skipped them too, so they bind nothing.
    """
    found: list[tuple[int, C]] = []
    for offset, value in messages:
        try:
            change = parse_control(value)
        except ControlMessageError:
            continue
        if isinstance(change, kind):
            found.append((offset, change))
    return found


def publish_control(
    settings: Settings, change: ControlMessage, producer: Producer | None = None
) -> Delivered:
    """Produce ``change`` to the control topic and wait until Kafka has it.

    With ``producer`` (a transactional one, in an open transaction), the change becomes
    visible to the job, which reads ``read_committed``, when that transaction commits.
    """
    topic = settings.topics.control.name
    delivered: list[Message] = []
    errors: list[KafkaError] = []

    def on_delivery(err: KafkaError | None, msg: Message) -> None:
        if err is not None:
            errors.append(err)
        else:
            delivered.append(msg)

    if producer is None:
        producer = make_producer(settings, **{"linger.ms": 0})
    producer.produce(
        topic, value=change.to_json(), key=control_key(change), on_delivery=on_delivery
    )
    producer.flush(30)
    if errors or not delivered:
        reason = errors[0] if errors else "no delivery report within 30 s"
        raise StackError(f"publishing {change.type} to {topic!r} failed: {reason}")
    msg = delivered[0]
    return Delivered(topic, msg.partition() or 0, msg.offset() or 0)
