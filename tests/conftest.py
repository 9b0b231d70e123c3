"""Shared fixtures. Integration tests run against the real local stack, started once per
session by the project's own code (the same `LocalStack` that `fraudguard stack up` uses)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from fraudguard.config import Settings, TopicSpec, TopicsSettings


@pytest.fixture(scope="session")
def stack_settings() -> Iterator[Settings]:
    """Settings of a running local stack (Kafka, Redis, connector jars); starts it if needed."""
    from fraudguard.stack import LocalStack

    settings = Settings()
    LocalStack(settings).up()
    yield settings


@pytest.fixture
def isolated_settings(stack_settings: Settings) -> Settings:
    """Stack settings with topics and a job name of their own, so tests never see each other's
    records, checkpoints, consumer offsets or Kafka transactions."""
    from fraudguard.stack import create_topics

    suffix = uuid.uuid4().hex[:8]
    base = stack_settings.topics
    topics = TopicsSettings(
        **{
            field: TopicSpec(
                name=f"{spec.name}-t{suffix}",
                partitions=spec.partitions,
                retention_ms=spec.retention_ms,
                cleanup_policy=spec.cleanup_policy,
            )
            for field, spec in (
                ("transactions", base.transactions),
                ("decisions", base.decisions),
                ("dlq", base.dlq),
                ("labels", base.labels),
                ("control", base.control),
            )
        }
    )
    flink = stack_settings.flink.model_copy(update={"job_name": f"fraudguard-test-{suffix}"})
    settings = stack_settings.model_copy(update={"topics": topics, "flink": flink})
    create_topics(settings)
    return settings
