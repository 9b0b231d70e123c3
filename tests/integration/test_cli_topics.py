"""`fraudguard stack topics` on the real broker: every configured topic, created once."""

from __future__ import annotations

import uuid

import pytest
from click.testing import CliRunner

from fraudguard.config import Settings

pytestmark = pytest.mark.integration


def test_topics_creates_the_configured_topics_once(stack_settings: Settings) -> None:
    from confluent_kafka.admin import ConfigResource

    from fraudguard.cli.stack import topics
    from fraudguard.stack import delete_topics
    from fraudguard.stack.topics import make_admin

    settings = stack_settings.isolated(f"c{uuid.uuid4().hex[:8]}")
    names = [spec.name for spec in settings.topics.all()]
    try:
        first = CliRunner().invoke(topics, obj=settings)
        assert first.exit_code == 0, first.output
        assert [line.split("\t") for line in first.stdout.splitlines()] == [
            [s.name, str(s.partitions), s.cleanup_policy, "created"] for s in settings.topics.all()
        ]
        again = CliRunner().invoke(topics, obj=settings)
        assert [line.split("\t")[-1] for line in again.stdout.splitlines()] == ["exists"] * len(
            names
        )
        state = ConfigResource("topic", settings.topics.reranker_state.name)
        admin = make_admin(settings)  # kept: a collected client cancels its futures
        described = admin.describe_configs([state])[state].result(timeout=30)
        assert described["cleanup.policy"].value == "compact"
    finally:
        delete_topics(settings, names)
