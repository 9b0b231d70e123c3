"""Topic planning (no broker); creation against a broker is in test_local.py."""

from __future__ import annotations

from fraudguard.config import TopicSpec
from fraudguard.stack.topics import new_topic, plan_topics


def test_plan_creates_missing_and_accepts_matching() -> None:
    a, b = TopicSpec(name="a", partitions=4), TopicSpec(name="b", partitions=1)
    plan = plan_topics([a, b, a], {"b": 1, "other": 9})
    assert plan.create == [a]
    assert plan.mismatched == []


def test_plan_reports_every_partition_mismatch() -> None:
    specs = [TopicSpec(name="a", partitions=4), TopicSpec(name="b", partitions=1)]
    assert plan_topics(specs, {"a": 2, "b": 3}).mismatched == [
        "topic 'a' has 2 partitions but settings ask for 4",
        "topic 'b' has 3 partitions but settings ask for 1",
    ]


def test_new_topic_carries_partitions_and_configs() -> None:
    topic = new_topic(
        TopicSpec(name="labels", partitions=1, retention_ms=-1, cleanup_policy="compact")
    )
    assert (topic.topic, topic.num_partitions, topic.replication_factor) == ("labels", 1, 1)
    assert topic.config == {"retention.ms": "-1", "cleanup.policy": "compact"}
