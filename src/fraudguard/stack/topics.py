"""Explicit topics: the broker never auto-creates one, so every topic is declared in settings.

Creation is idempotent, but a topic that exists with another partition count is an error:
keys are hashed over partitions, so silently living with a different count would break the
per-card ordering the job relies on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

from fraudguard.config import Settings, TopicSpec
from fraudguard.errors import StackError

log = logging.getLogger(__name__)

# Errors a broker answers while it is still starting (no broker registered yet, and so on).
_TRANSIENT = {
    KafkaError.INVALID_REPLICATION_FACTOR,
    KafkaError.BROKER_NOT_AVAILABLE,
    KafkaError.LEADER_NOT_AVAILABLE,
    KafkaError.NOT_CONTROLLER,
    KafkaError.REQUEST_TIMED_OUT,
    KafkaError._TIMED_OUT,
    KafkaError._TRANSPORT,
}


def make_admin(settings: Settings) -> AdminClient:
    """An admin client whose connection errors go to logging, not to stderr."""
    config: dict[str, Any] = {
        "bootstrap.servers": settings.kafka.bootstrap_servers,
        "logger": logging.getLogger("fraudguard.stack.librdkafka"),
        "socket.connection.setup.timeout.ms": 3000,
    }
    return AdminClient(config)


def topic_partitions(admin: AdminClient, timeout_s: float = 10.0) -> dict[str, int]:
    """Partition count of every user topic (internal ``__`` topics left out)."""
    metadata = admin.list_topics(timeout=timeout_s)
    return {
        name: len(topic.partitions)
        for name, topic in metadata.topics.items()
        if not name.startswith("__") and topic.error is None
    }


class TopicPlan(NamedTuple):
    create: list[TopicSpec]
    mismatched: list[str]
    """One readable line per existing topic whose partition count differs from its spec."""


def plan_topics(specs: Iterable[TopicSpec], existing: Mapping[str, int]) -> TopicPlan:
    """Which specs to create, and which existing topics contradict their spec.

    >>> spec = TopicSpec(name="tx", partitions=4)
    >>> plan_topics([spec], {}).create == [spec]
    True
    >>> plan_topics([spec], {"tx": 2}).mismatched
    ["topic 'tx' has 2 partitions but settings ask for 4"]
    """
    create: list[TopicSpec] = []
    mismatched: list[str] = []
    seen: set[str] = set()
    for spec in specs:
        if spec.name in seen:
            continue
        seen.add(spec.name)
        have = existing.get(spec.name)
        if have is None:
            create.append(spec)
        elif have != spec.partitions:
            mismatched.append(
                f"topic {spec.name!r} has {have} partitions but settings ask for {spec.partitions}"
            )
    return TopicPlan(create, mismatched)


def new_topic(spec: TopicSpec) -> NewTopic:
    return NewTopic(
        spec.name,
        num_partitions=spec.partitions,
        replication_factor=1,
        config={"retention.ms": str(spec.retention_ms), "cleanup.policy": spec.cleanup_policy},
    )


def _check(plan: TopicPlan, servers: str) -> None:
    if plan.mismatched:
        raise StackError(
            "; ".join(plan.mismatched)
            + f" (on {servers}): delete the topic or change its partitions in settings"
        )


def create_topics(settings: Settings, timeout_s: float = 60.0) -> list[str]:
    """Create every topic of ``settings.topics`` that is missing; return the names created.

    Returns only once the broker's metadata shows every topic with its partition count, so a
    producer started right after never races the creation.
    """
    admin = make_admin(settings)
    servers = settings.kafka.bootstrap_servers
    specs = settings.topics.all()
    deadline = time.monotonic() + timeout_s
    created: list[str] = []
    while True:
        try:
            plan = plan_topics(specs, topic_partitions(admin))
        except KafkaException as exc:
            raise StackError(f"cannot list topics on {servers}: {exc}") from exc
        _check(plan, servers)
        if not plan.create:
            return created
        if time.monotonic() > deadline:
            names = [spec.name for spec in plan.create]
            raise StackError(f"topics {names} did not appear on {servers} in {timeout_s:.0f} s")
        futures = admin.create_topics(
            [new_topic(spec) for spec in plan.create], operation_timeout=timeout_s
        )
        for name, future in futures.items():
            try:
                future.result()
                created.append(name)
                log.info("created topic %s", name)
            except KafkaException as exc:
                error = exc.args[0]
                if error.code() == KafkaError.TOPIC_ALREADY_EXISTS:
                    continue  # created meanwhile; the next listing checks its partitions
                if error.code() not in _TRANSIENT:
                    raise StackError(f"cannot create topic {name!r} on {servers}: {error}") from exc
        time.sleep(0.2)


def delete_topics(settings: Settings, names: Iterable[str]) -> dict[str, str]:
    """Delete topics and wait for the broker; the ones that could not go, with the reason."""
    admin = make_admin(settings)  # held: a collected client fails its own pending futures
    failed: dict[str, str] = {}
    for name, future in admin.delete_topics(list(names), operation_timeout=30).items():
        try:
            future.result(timeout=40)
        except Exception as exc:  # noqa: BLE001 - reported to the caller, per topic
            failed[name] = str(exc)
    return failed
