"""The generator against the real local Kafka: what is produced is what a reader gets back."""

from __future__ import annotations

import time

import orjson
import pytest

from fraudguard.generator import GeneratorConfig, PaymentStream, produce_to_kafka
from fraudguard.streams.kafka import read_topic
from fraudguard.wire.ground_truth import MARK_KEY, parse_ground_truth
from fraudguard.wire.transactions import format_event_time, parse_transaction


@pytest.mark.integration
@pytest.mark.parametrize("route", ["ground_truth", "labels"])
def test_produce_and_read_back(isolated_settings, route):
    now_ms = int(time.time() * 1000)
    # Five days of 500 cards hold about 5,000 transactions: always more than the limit.
    config = GeneratorConfig(seed=21, cards=500, merchants=100, days=5, fraud_rate=0.01)
    stream = PaymentStream(config.ending_at(now_ms))
    report = produce_to_kafka(isolated_settings, stream, rate=0, limit=3_000, truth_to=route)
    assert report.transactions == 3_000 and report.failed == 0
    assert report.last_event_ms is not None

    topic = isolated_settings.topics.transactions.name
    messages = list(read_topic(isolated_settings, topic, idle_timeout_s=2.0))
    assert len(messages) == 3_000
    read_at = int(time.time() * 1000)
    ids = set()
    for msg in messages:
        txn = parse_transaction(msg.value(), now_ms=read_at, max_future_ms=0)
        assert msg.key().decode() == txn.card_id
        assert msg.timestamp()[1] == txn.ts_ms  # the job orders partitions by it
        ids.add(txn.txn_id)
    assert len(ids) == 3_000

    topics = isolated_settings.topics
    on_labels = list(read_topic(isolated_settings, topics.labels.name, idle_timeout_s=2.0))
    on_truth = list(read_topic(isolated_settings, topics.ground_truth.name, idle_timeout_s=2.0))
    if route == "ground_truth":  # the truth of every payment sent, then marks; labels untouched
        assert on_labels == []
        marks = [m for m in on_truth if m.key() == MARK_KEY.encode()]
        labels = [m for m in on_truth if m.key() != MARK_KEY.encode()]
        assert marks and parse_ground_truth(marks[-1].value()).through_ms == report.last_event_ms
    else:  # hindsight labels, each once the simulated clock reached it
        assert on_truth == []
        labels = on_labels
    assert len(labels) == report.labels > 0
    for msg in labels:
        label = orjson.loads(msg.value())
        assert label["txn_id"] in ids and msg.key().decode() == label["card_id"]
        if route == "labels":
            assert label["reported_at"] <= format_event_time(report.last_event_ms)
