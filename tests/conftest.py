"""Shared fixtures. Integration tests run against the real local stack, started once per
session by the project's own code (the same `LocalStack` that `fraudguard stack up` uses)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from fraudguard.config import Settings, TopicsSettings


@pytest.fixture(scope="session")
def stack_settings() -> Iterator[Settings]:
    """Settings of a running local stack (Kafka, Redis, connector jars); starts it if needed.

    The suite is an entry point: it honours ``FRAUDGUARD_*`` variables like the CLI does, so it
    can run beside another stack on other ports.
    """
    from fraudguard.stack import LocalStack

    settings = Settings.from_env(os.environ)
    LocalStack(settings).up()
    yield settings


@pytest.fixture
def isolated_settings(stack_settings: Settings) -> Iterator[Settings]:
    """Stack settings with topics and a job name of their own, so tests never see each other's
    records, checkpoints, consumer offsets or Kafka transactions."""
    from fraudguard.stack import create_topics

    suffix = uuid.uuid4().hex[:8]
    settings = stack_settings.isolated(f"t{suffix}", job_prefix="fraudguard-test")
    create_topics(settings)
    yield settings
    topics = settings.topics
    _delete_topics(settings, [getattr(topics, field).name for field in TopicsSettings.model_fields])
    _delete_feature_keys(settings)


def _delete_feature_keys(settings: Settings) -> None:
    import redis

    client = redis.Redis(host=settings.redis.host, port=settings.redis.port, db=settings.redis.db)
    try:
        keys = list(client.scan_iter(f"{settings.redis.feature_prefix}:*", count=1000))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start : start + 1000])
    finally:
        client.close()


def _delete_topics(settings: Settings, names: list[str]) -> None:
    """Best effort: a test's topics are its own, and the broker should not keep collecting them."""
    from fraudguard.stack.topics import make_admin

    admin = make_admin(settings)  # held: a collected client fails its own pending futures
    futures = admin.delete_topics(names, operation_timeout=10)
    for future in futures.values():
        try:
            future.result()
        except Exception:  # noqa: BLE001 - cleanup must never fail a test
            pass
