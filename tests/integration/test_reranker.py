"""The re-ranker loop on the real stack: labels on Kafka, the learner, snapshots on the control
topic, the running job scoring with them; a burst of flipped labels is refused and the job keeps
the last stable snapshot; an operator's rollback reaches the job."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import orjson
import pytest

from fraudguard.config import Settings
from fraudguard.control.changes import published_rerankers, roll_back_reranker
from fraudguard.models.registry import ModelRegistry
from fraudguard.ops.jobrunner import JobRunner
from fraudguard.reranker.guard import GuardConfig
from fraudguard.reranker.learner import (
    LearnerConfig,
    RerankerLearner,
)
from fraudguard.streams.kafka import make_producer, read_topic

pytestmark = pytest.mark.integration


def test_labels_train_the_reranker_the_job_applies_and_a_flipped_burst_is_refused(
    isolated_settings: Settings,
    register_model: Callable[..., None],
    live_decisions: Callable[[Settings], Any],
    send_labels: Callable[..., None],
) -> None:
    settings = isolated_settings.model_copy(
        update={"exploration": isolated_settings.exploration.model_copy(update={"share": 0.0})}
    )
    registry = ModelRegistry.from_settings(settings)
    register_model(registry, "m-rr", 3)
    registry.promote("m-rr")
    decisions = live_decisions(settings)
    runner = JobRunner(settings)
    runner.start(detached=True, fresh=True)
    try:
        runner.wait_running(timeout_s=120)
        decisions.pay(4_000)
        decisions.wait_for(4_000, timeout_s=120)
        first = decisions.records[:4_000]
        assert {r["reranker_version"] for r in first} == {"none"}
        assert all(r["base_score"] == r["score"] and not r["degraded"] for r in first)

        # Labels that agree with the base model's ranking (the top 10% of scores are fraud),
        # learnt in batches of 500: each accepted batch publishes a snapshot.
        scores = np.array([r["base_score"] for r in first])
        cut = float(np.quantile(scores, 0.9))
        truth = [(r["txn_id"], r["base_score"] > cut) for r in first]
        send_labels(settings, truth[:1_500])
        send_labels(settings, [(f"never-decided-{i}", True) for i in range(7)])
        producer = make_producer(settings)
        for bad in (b"{not json", b'{"txn_id": "x"}', b'{"txn_id": "x", "label": "maybe"}'):
            producer.produce(settings.topics.labels.name, value=bad)
        assert producer.flush(30) == 0
        guard = GuardConfig(min_window=200)
        batches = LearnerConfig(batch_size=500, max_wait_s=3)
        learner = RerankerLearner(settings, batches, guard=guard)
        report = learner.run(once=True)
        assert report.labels_read == 1_510 and report.labels_unmatched == 7
        assert report.labels_invalid == 3 and report.labels_dead == 10
        dead = [orjson.loads(m.value()) for m in read_topic(
            settings, settings.topics.labels_dlq.name, idle_timeout_s=0.0
        )]  # fmt: skip
        assert sorted(d["reason"] for d in dead) == ["bad_label"] * 3 + ["unknown_transaction"] * 7
        assert {d["original"] for d in dead if d["reason"] == "bad_label"} == {
            "{not json",
            '{"txn_id": "x"}',
            '{"txn_id": "x", "label": "maybe"}',
        }
        assert report.batches_accepted == 3 and report.batches_refused == 0
        assert len(report.published) == 3
        stable = report.published[-1]
        published = [c.snapshot.version for c in published_rerankers(settings)]
        assert published == report.published

        # The job scores with the newest snapshot within seconds, exactly as the library does.
        took, record = decisions.pay_until(lambda r: r["reranker_version"] == stable)
        print(f"re-ranker {stable} reached decisions in {took:.1f} s")
        assert took <= 10
        reranker = [c.snapshot for c in published_rerankers(settings)][-1].restore()
        assert record["score"] == pytest.approx(
            reranker.score(record["base_score"], record["features"]), abs=1e-12
        )

        # A burst of 3,000 flipped labels, all in one batch, learnt by a restarted learner:
        # it continues from the published snapshot and its label offset, and the guard refuses.
        flipped = [(txn_id, not fraud) for txn_id, fraud in truth[:3_000]]
        send_labels(settings, flipped)
        burst = RerankerLearner(
            settings, LearnerConfig(batch_size=3_000, max_wait_s=5), guard=guard
        ).run(once=True)
        assert (burst.labels_read, burst.labels_unmatched) == (3_000, 0)
        assert burst.batches_refused == 1 and burst.batches_accepted == 0
        refusal = burst.verdicts[0]
        print(f"burst: {refusal}")
        assert refusal.rolled_back_to == stable and burst.version == stable
        assert burst.published == []
        decisions.read()
        later = decisions.pay_until(lambda r: r["reranker_version"] != "none")[1]
        assert later["reranker_version"] == stable

        # An operator's rollback: the previous snapshot is published again and applied.
        previous = roll_back_reranker(settings)
        assert previous.version == report.published[-2]
        took, _ = decisions.pay_until(lambda r: r["reranker_version"] == previous.version)
        print(f"rollback to {previous.version} reached decisions in {took:.1f} s")
        assert took <= 10

        # A new champion: its scores are never re-ranked by a snapshot learnt on the old one,
        # and the learner starts a re-ranker of its own once its decisions are labelled.
        register_model(registry, "m-rr2", 4)
        registry.promote("m-rr2")
        _, record = decisions.pay_until(lambda r: r["model_version"] == "m-rr2")
        assert record["reranker_version"] == "none" and record["score"] == record["base_score"]
        start = len(decisions.records)
        decisions.pay(1_500)
        decisions.wait_for(start + 1_500, timeout_s=60)
        fresh = [r for r in decisions.records[start:] if r["model_version"] == "m-rr2"]
        cut2 = float(np.quantile([r["base_score"] for r in fresh], 0.9))
        send_labels(settings, [(r["txn_id"], r["base_score"] > cut2) for r in fresh[:1_000]])
        # Late labels of the old model's decisions: re-scored with the new model on the
        # features the job logged, they teach the new re-ranker too.
        send_labels(settings, truth[3_000:3_050])
        third = RerankerLearner(settings, batches, guard=guard).run(once=True)
        assert third.decisions_rescored >= 3_050 and third.labels_other_model == 0
        assert third.batches_accepted >= 2 and third.batches_accepted + third.batches_refused == 3
        changes = published_rerankers(settings)
        assert changes[-1].base_model_version == "m-rr2"
        assert changes[-1].snapshot.version == third.published[-1]
        took, _ = decisions.pay_until(lambda r: r["reranker_version"] == third.published[-1])
        print(f"re-ranker for the new champion reached decisions in {took:.1f} s")
    finally:
        runner.stop()
        decisions.close()
    txn_ids = [r["txn_id"] for r in decisions.records]
    assert len(txn_ids) == len(set(txn_ids))
