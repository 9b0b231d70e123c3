"""The re-ranker learner's Kafka side on the real broker: a round's dead letters and its labels
position commit together, so a learner killed mid-round repeats no dead letter and loses none.
(The loop through the running job is in tests/jobs/test_reranker.py.)"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
import orjson
import pytest

from fraudguard.config import Settings
from fraudguard.control.changes import published_rerankers, roll_back_reranker
from fraudguard.errors import StackError
from fraudguard.reranker.guard import GuardConfig
from fraudguard.reranker.learner import (
    LearnerConfig,
    RerankerLearner,
    learner_group,
)
from fraudguard.reranker.model import DEFAULT_FEATURES
from fraudguard.streams.kafka import committed_offsets, end_offsets, make_producer, read_topic

pytestmark = pytest.mark.integration

SendLabels = Callable[..., None]  # the root conftest's send_labels fixture

BAD = (b"{not json", b'{"txn_id": "x"}', b'{"txn_id": "x", "label": "maybe"}', b"[1, 2]")


class Crashed(BaseException):
    """Stands for SIGKILL: nothing after it runs, not even the learner's abort."""


def send(settings: Settings, values: list[bytes]) -> None:
    """Raw values on the labels topic (bad ones included); good labels: ``send_labels``."""
    producer = make_producer(settings)
    for value in values:
        producer.produce(settings.topics.labels.name, value=value)
    assert producer.flush(30) == 0


def dead_letters(settings: Settings, isolation: Any = "read_committed") -> list[dict]:
    topic = settings.topics.labels_dlq.name
    messages = read_topic(settings, topic, isolation=isolation, idle_timeout_s=0.0)
    return [orjson.loads(m.value()) for m in messages]


def test_a_learner_killed_before_its_commit_repeats_no_dead_letter(
    isolated_settings: Settings, monkeypatch: pytest.MonkeyPatch, send_labels: SendLabels
) -> None:
    settings = isolated_settings
    unknown = [(f"never-{i}", True) for i in range(3)]
    send(settings, list(BAD))
    send_labels(settings, unknown)
    config = LearnerConfig(batch_size=100, max_wait_s=1)

    def killed_before_commit(self: RerankerLearner, consumer: Any, topic: str) -> None:
        assert self._producer is not None
        assert self._producer.flush(30) == 0  # the dead letters reached the broker...
        raise Crashed  # ...and the round's commit never happened

    with monkeypatch.context() as patched:
        patched.setattr(RerankerLearner, "_commit", killed_before_commit)
        patched.setattr(RerankerLearner, "_abort", lambda self: None)
        with pytest.raises(Crashed):
            RerankerLearner(settings, config).run(once=True)
    written = dead_letters(settings, "read_uncommitted")
    assert len(written) == len(BAD) + len(unknown)  # written, but inside an open transaction
    assert dead_letters(settings) == []
    group = learner_group(settings)
    assert committed_offsets(settings, settings.topics.labels.name, group) in ({}, {0: 0})

    # The restarted learner fences the dead one's transaction and redoes the round.
    report = RerankerLearner(settings, config).run(once=True)
    assert report.labels_read == len(BAD) + len(unknown)
    assert (report.labels_invalid, report.labels_unmatched) == (len(BAD), len(unknown))
    dead = dead_letters(settings)
    assert Counter(d["reason"] for d in dead) == {
        "bad_label": len(BAD),
        "unknown_transaction": len(unknown),
    }
    assert sorted(d["original"] for d in dead if d["reason"] == "bad_label") == sorted(
        b.decode() for b in BAD
    )
    labels_end = end_offsets(settings, settings.topics.labels.name, "read_committed")
    assert committed_offsets(settings, settings.topics.labels.name, group) == labels_end

    # Nothing new: a third run reads nothing and writes nothing.
    again = RerankerLearner(settings, config).run(once=True)
    assert again.labels_read == 0 and again.labels_dead == 0
    assert len(dead_letters(settings)) == len(BAD) + len(unknown)


def test_a_second_learner_on_the_same_labels_fences_the_first(
    isolated_settings: Settings,
) -> None:
    settings = isolated_settings
    send(settings, [BAD[0]])
    first = RerankerLearner(settings, LearnerConfig(batch_size=10, max_wait_s=1))
    rounds: list[int] = []

    def start_a_second_learner() -> bool:
        rounds.append(1)
        if len(rounds) == 2:  # after the first round: another learner takes the labels over
            RerankerLearner(settings, LearnerConfig(max_wait_s=1)).run(once=True)
        return len(rounds) > 3

    with pytest.raises(StackError, match="it fences this one"):
        first.run(stop=start_a_second_learner)
    assert len(dead_letters(settings)) == 1


def send_decisions(settings: Settings, model: str, n: int, seed: int) -> list[tuple[str, float]]:
    """Decision records as the job logs them (the fields the learner reads): half clearly
    legitimate (base score 0.02), half clearly fraud (0.9)."""
    rng = np.random.default_rng(seed)
    producer = make_producer(settings)
    scored = []
    for i in range(n):
        txn_id, base = f"d{seed}-{i}", (0.9 if i % 2 else 0.02)
        features = {name: float(rng.normal()) for name in DEFAULT_FEATURES}
        record = {"txn_id": txn_id, "base_score": base, "score": base, "degraded": False,
                  "model_version": model, "features": features,
                  "decided_at_ms": int(time.time() * 1000)}  # fmt: skip
        producer.produce(settings.topics.decisions.name, value=orjson.dumps(record))
        scored.append((txn_id, base))
    assert producer.flush(30) == 0
    return scored


def label(scored: list[tuple[str, float]], flipped: bool = False) -> list[tuple[str, bool]]:
    """Labels that agree with the base score (fraud above 0.5), or all wrong."""
    return [(t, (base > 0.5) != flipped) for t, base in scored]


def test_a_restarted_learner_keeps_its_guard_window_and_refuses_a_flipped_burst_by_loss(
    isolated_settings: Settings, send_labels: SendLabels
) -> None:
    settings = isolated_settings
    scored = send_decisions(settings, "m-test", 3_000, seed=1)
    # Only the loss check may refuse here: the step limits are out of reach.
    guard = GuardConfig(max_step=1e6, max_relative_step=1e6, min_window=200)
    config = LearnerConfig(batch_size=500, max_wait_s=1)
    send_labels(settings, label(scored[:2_000]))
    first = RerankerLearner(settings, config, guard=guard).run(once=True)
    assert (first.batches_accepted, first.batches_refused) == (4, 0)
    assert first.labels_learnt == 2_000

    # Restarted: the window comes back from reranker.state, so a burst of flipped labels meets
    # the loss check at once (an empty window would skip it until 200 labels were accepted).
    send_labels(settings, label(scored[2_000:], flipped=True))
    restarted = RerankerLearner(settings, config.model_copy(update={"batch_size": 1_000}),
                                guard=guard)  # fmt: skip
    report = restarted.run(once=True)
    assert report.window_restored == 2_000
    assert (report.batches_accepted, report.batches_refused) == (0, 1)
    assert report.verdicts[-1].reason.startswith("log loss")
    assert report.version == first.version  # rolled back to the stable snapshot


def test_an_operator_rollback_keeps_the_guard_window(
    isolated_settings: Settings, send_labels: SendLabels
) -> None:
    settings = isolated_settings
    scored = send_decisions(settings, "m-test", 1_000, seed=2)
    send_labels(settings, label(scored))
    guard = GuardConfig(min_window=200)
    learner = RerankerLearner(settings, LearnerConfig(batch_size=500, max_wait_s=1), guard=guard)
    rounds: list[int] = []

    def roll_back_after_learning() -> bool:
        rounds.append(1)
        if len(rounds) == 3:  # both batches learnt: an operator returns to the first snapshot
            roll_back_reranker(settings, learner.report.published[0])
        return len(rounds) > 4

    learner.run(stop=roll_back_after_learning)
    assert len(learner.report.published) == 2
    assert learner.report.version == learner.report.published[0]
    assert learner.reranker is not None
    assert len(learner.reranker.window_examples()[1]) == 1_000


def test_labels_of_the_old_champions_decisions_teach_the_new_champions_reranker(
    isolated_settings: Settings, register_model: Any, send_labels: SendLabels
) -> None:
    from fraudguard.features import FEATURE_NAMES
    from fraudguard.models.booster import XGBoostScorer
    from fraudguard.models.registry import ModelRegistry

    settings = isolated_settings
    registry = ModelRegistry.from_settings(settings)
    register_model(registry, "m-old", 3)
    register_model(registry, "m-new", 5)
    old, new = (XGBoostScorer.load(registry.get(v).path) for v in ("m-old", "m-new"))
    rng = np.random.default_rng(4)
    logged = rng.normal(size=(1_010, len(FEATURE_NAMES))).astype(np.float32)
    producer = make_producer(settings)
    # 1,000 decisions of the old champion, then 10 of the new one (it was promoted since).
    versions = ["m-old"] * 1_000 + ["m-new"] * 10
    for i, (row, version) in enumerate(zip(logged, versions, strict=True)):
        model = old if version == "m-old" else new
        record = {"txn_id": f"p-{i}", "base_score": model.predict_batch([row])[0],
                  "degraded": False, "model_version": version, "decided_at_ms": 1_000 + i,
                  "features": dict(zip(FEATURE_NAMES, row.tolist(), strict=True))}  # fmt: skip
        producer.produce(settings.topics.decisions.name, value=orjson.dumps(record))
    assert producer.flush(30) == 0
    # The labels that come in now are, as in life, of the old champion's decisions.
    new_scores = np.array(new.predict_batch(logged[:1_000]))
    cut = float(np.quantile(new_scores, 0.9))
    send_labels(settings, [(f"p-{i}", bool(s > cut)) for i, s in enumerate(new_scores)])
    config = LearnerConfig(batch_size=500, max_wait_s=1)
    learner = RerankerLearner(settings, config, guard=GuardConfig(min_window=200))
    report = learner.run(once=True)
    assert report.decisions_rescored == 1_000
    assert report.labels_other_model == 0
    assert report.batches_accepted + report.batches_refused == 2
    assert report.published and published_rerankers(settings)[-1].base_model_version == "m-new"
    # The base score of a re-scored decision is the new model's on the logged features.
    assert learner._index is not None
    rescored = learner._index.row("p-7", True)
    assert rescored is not None and rescored[0] == "m-new"
    assert rescored[1][0] == pytest.approx(new_scores[7], abs=1e-7)

    # Restarted, the learner re-scores the decision log again as it rebuilds its index.
    send_labels(settings, [("p-1", False)])
    again = RerankerLearner(settings, config, guard=GuardConfig(min_window=200)).run(once=True)
    assert again.decisions_rescored == 1_000 and again.labels_other_model == 0


def test_without_the_model_in_the_registry_old_labels_are_counted_and_skipped(
    isolated_settings: Settings, send_labels: SendLabels
) -> None:
    settings = isolated_settings
    scored = send_decisions(settings, "m-elsewhere", 20, seed=5)
    send_decisions(settings, "m-champion", 1, seed=6)
    send_labels(settings, label(scored))
    report = RerankerLearner(settings, LearnerConfig(max_wait_s=1)).run(once=True)
    assert report.decisions_rescored == 0 and report.labels_other_model == 20
