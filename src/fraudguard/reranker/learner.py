"""The re-ranker learner: investigation labels joined to the decision log, learnt in guarded
batches, accepted snapshots published to the running job on the ``control`` topic.

One process (``fraudguard reranker learn``) follows three topics:

- ``decisions`` (``read_committed``): the decision log. For every decision a model scored, the
  learner keeps what the re-ranker needs (the base score and the re-ranker's few features) by
  transaction id, in a bounded index; for the newest ``rescore_capacity`` decisions it also
  keeps every logged feature. A rules-scored (degraded) decision cannot teach the re-ranker,
  which learns on a model's logit, until it is re-scored (below).
- The re-ranker is bound to one base model: the one that scored the newest decisions (the
  champion in force). Its snapshots name that model and the job applies them only to that
  model's scores. When the champion changes, the learner starts a fresh re-ranker for the new
  model (identity, scaling refitted on its decisions) and re-scores, with the new model from
  the registry, every indexed decision whose logged features it still holds: fraud labels
  arrive days or weeks late, so nearly all labels in the weeks after a promotion are of the
  old model's decisions, and they still teach the new re-ranker with the base score the new
  model gives the features the job logged. Labels it cannot re-score (features no longer
  held, or the model not in the registry here) are counted (``labels_other_model``) and
  skipped.
- ``labels``: what investigators and chargebacks found. Each round reads up to ``batch_size``
  labels, joins them to the index and hands the batch to
  :meth:`~fraudguard.reranker.model.Reranker.learn_batch`, whose guard keeps it or falls back
  to the last stable snapshot. A label that is not valid JSON with a ``txn_id`` and a
  ``label`` of ``fraud`` or ``legit`` (reason ``bad_label``), or whose transaction is not in
  the index (never decided, or older than the index holds: ``unknown_transaction``), goes to
  ``labels.dlq`` with the reason and the original bytes, like a bad transaction.
- ``control``: the snapshots it published and any rollback an operator published. The learner
  continues from the newest one, so it always learns on the parameters the job is using.

Exactly-once learning across restarts: each round is one Kafka transaction holding the round's
dead letters, the snapshot it published (if any; its metrics carry the ``labels`` offsets its
batch ended at, ``labels_offset.<partition>``) and the learner's position in ``labels``,
committed to its consumer group (``fraudguard-reranker-<labels topic>``, also the transactional
id). Killed before the commit, nothing of the round is visible to ``read_committed`` readers;
the restarted learner aborts that transaction, takes the newest snapshot from ``control``,
reads labels from the later of its offsets and the group's, and redoes the round: no label is
learnt twice, no update is lost, a refused batch is not re-read, and no dead letter is repeated.
A second learner on the same labels topic fences the first. The guard's loss window (the
recent accepted labels) goes to the compacted ``reranker.state`` topic in the same transaction
whenever a batch changes it; a restarted learner takes it back when it fits the re-ranker in
force, and an operator's rollback keeps it.

The pieces live beside this module: :mod:`~fraudguard.reranker.labels` (reading a label),
:mod:`~fraudguard.reranker.decision_index` (the bounded index of decisions),
:mod:`~fraudguard.reranker.window` (the saved guard window); this module is the Kafka loop.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import orjson
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from pydantic import BaseModel, ConfigDict, Field

from fraudguard.config import Settings
from fraudguard.control.reranker_message import (
    OFFSET_METRIC,
    RerankerChange,
    labels_offsets,
)
from fraudguard.control.topic import parse_changes, publish_control
from fraudguard.errors import FraudGuardError, InvalidLabel, StackError
from fraudguard.reranker.decision_index import DecisionIndex, ScoringModel
from fraudguard.reranker.guard import GuardConfig, GuardVerdict
from fraudguard.reranker.labels import parse_label
from fraudguard.reranker.model import (
    FeatureScaling,
    Reranker,
    RerankerConfig,
    RerankerSnapshot,
)
from fraudguard.reranker.window import MAX_WINDOW_RECORD, decode_window, encode_window
from fraudguard.streams.kafka import (
    TopicTail,
    abort_quietly,
    assigned_consumer,
    committed_offsets,
    read_topic,
    transactional_producer,
)

log = logging.getLogger(__name__)


class LearnerConfig(BaseModel):
    """How the learner batches labels and how much of the decision log it keeps."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    batch_size: int = Field(default=2_000, ge=1)
    """Most labels in one guarded batch (one round)."""
    max_wait_s: float = Field(default=5.0, gt=0)
    """A round ends after this long even with fewer labels, so a quiet day still learns."""
    index_capacity: int = Field(default=5_000_000, ge=1)
    """Decisions kept for joining labels (oldest dropped first). About 575 B each; with the
    default re-scoring below, 5 million took 2.7 GB and 92 s to index at start
    (``bench/learner_index.py``)."""
    rescore_capacity: int = Field(default=1_000_000, ge=0)
    """Of those, how many of the newest keep every logged feature (232 B each), so that when
    the champion changes their labels can still teach the new model's re-ranker: they are
    re-scored with the new model on the features the job logged. 0: labels of another
    model's decisions are skipped."""
    scaling_sample: int = Field(default=50_000, ge=1)
    """Decisions the feature scaling of a brand-new re-ranker is fitted on."""


@dataclass
class LearnerReport:
    """What the learner did, over its whole run."""

    decisions_indexed: int = 0
    labels_read: int = 0
    labels_learnt: int = 0
    labels_unmatched: int = 0
    labels_invalid: int = 0
    labels_other_model: int = 0
    """Labels of decisions another model than the re-ranker's base model (or the rules)
    scored and that could not be re-scored (features no longer held, or that model not in
    the registry here): valid, kept for retraining, not for this re-ranker."""
    labels_dead: int = 0
    """Labels sent to ``labels.dlq`` (invalid, or of an unknown transaction)."""
    batches_accepted: int = 0
    batches_refused: int = 0
    decisions_rescored: int = 0
    """Decisions another model or the rules scored, re-scored with the re-ranker's model on
    their logged features (see ``LearnerConfig.rescore_capacity``)."""
    window_restored: int = 0
    """Labels of the guard window restored from ``reranker.state`` at start."""
    published: list[str] = field(default_factory=list)
    """Versions published to ``control``, in order."""
    verdicts: list[GuardVerdict] = field(default_factory=list)
    version: str = "none"
    """The version in force when the run ended."""

    def to_dict(self) -> dict[str, Any]:
        doc = {k: v for k, v in self.__dict__.items() if k != "verdicts"}
        doc["refusals"] = [v.reason for v in self.verdicts if not v.accepted]
        return doc


class RerankerLearner:
    """Joins labels to decisions, learns guarded batches, publishes accepted snapshots."""

    def __init__(
        self,
        settings: Settings,
        config: LearnerConfig | None = None,
        reranker_config: RerankerConfig | None = None,
        guard: GuardConfig | None = None,
        on_verdict: Callable[[GuardVerdict], None] | None = None,
    ) -> None:
        self.settings = settings
        self.config = config or LearnerConfig()
        self.reranker_config = reranker_config or RerankerConfig()
        self.guard = guard or GuardConfig()
        self.on_verdict = on_verdict
        self.report = LearnerReport()
        self.reranker: Reranker | None = None
        self._offsets: dict[int, int] = {}
        self._index: DecisionIndex | None = None
        self.base_model: str | None = None
        """The model whose scores the re-ranker in force re-ranks."""
        self._producer: Producer | None = None
        self._window_changed = False
        self._models: dict[str, ScoringModel | None] = {}

    def run(self, once: bool = False, stop: Callable[[], bool] = lambda: False) -> LearnerReport:
        """Learn until ``stop()`` (or, with ``once``, until every label on the topic is read)."""
        topics = self.settings.topics
        group = learner_group(self.settings)
        # One transactional id per labels topic: a second learner started on the same topic
        # fences the first instead of both writing dead letters and positions.
        self._producer = transactional_producer(self.settings, group, "learner")
        control = TopicTail(assigned_consumer(self.settings, topics.control.name))
        decisions = TopicTail(assigned_consumer(self.settings, topics.decisions.name))
        labels: TopicTail | None = None
        try:
            self._adopt_published(_reranker_changes(control), starting=True)
            self._restore_window()
            features = self.reranker.config.features if self.reranker else None
            self._index = DecisionIndex(
                features or self.reranker_config.features,
                self.config.index_capacity,
                self.config.rescore_capacity,
            )
            committed = committed_offsets(self.settings, topics.labels.name, group)
            self._offsets = {
                p: max(self._offsets.get(p, 0), committed.get(p, 0))
                for p in {*self._offsets, *committed}
            }
            manual: dict[str, Any] = {"group.id": group, "enable.auto.commit": False}
            labels = TopicTail(
                assigned_consumer(
                    self.settings, topics.labels.name, start_offsets=self._offsets, **manual
                )
            )
            while not stop():
                self._begin()
                self._adopt_published(_reranker_changes(control))
                self._index_decisions(v for _, _, v in decisions.drain() if v is not None)
                batch, at_end = self._read_labels(labels)
                self._learn(batch)
                self._commit(labels.consumer, topics.labels.name)
                if once and at_end:
                    break
        except BaseException:
            self._abort()
            raise
        finally:
            for tail in (control, decisions, labels):
                if tail is not None:
                    tail.close()
        self.report.version = self.reranker.version if self.reranker else "none"
        return self.report

    # Rounds

    def _index_decisions(self, values: Iterable[bytes]) -> None:
        assert self._index is not None
        added: list[str] = []
        for value in values:
            try:
                record = orjson.loads(value)
                if self._index.add(record):
                    self.report.decisions_indexed += 1
                added.append(record["txn_id"])
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
                log.warning("skipped a decision record the learner cannot read")
        # Decisions an earlier model (or the rules) made, for instance all of the log on a
        # restart after a promotion, are scored as the re-ranker's model would have scored them.
        champion = self._index.latest_model
        if added and champion is not None and champion == self.base_model:
            self._rescore(champion, added)

    def _rescore(self, version: str, txn_ids: list[str] | None = None) -> None:
        assert self._index is not None
        model = self._scoring_model(version)
        if model is not None:
            rescored = self._index.rescore(model, txn_ids)
            self.report.decisions_rescored += rescored
            if rescored:
                log.info("re-scored %d decisions with %s", rescored, version)

    def _scoring_model(self, version: str) -> ScoringModel | None:
        if version not in self._models:
            from fraudguard.models.booster import XGBoostScorer
            from fraudguard.models.registry import ModelRegistry

            try:
                entry = ModelRegistry.from_settings(self.settings).get(version)
                self._models[version] = XGBoostScorer.load(entry.path)
            except FraudGuardError as exc:
                log.warning(
                    "model %s is not in the registry here (%s): labels of other models' "
                    "decisions are skipped, not re-scored", version, exc,
                )  # fmt: skip
                self._models[version] = None
        return self._models[version]

    def _read_labels(self, labels: TopicTail) -> tuple[list[tuple[str, bool]], bool]:
        """Up to ``batch_size`` labels of indexed decisions, ``(txn_id, is_fraud)``; True once
        the topic's end was reached."""
        assert self._index is not None
        rows: list[tuple[str, bool]] = []
        deadline = time.monotonic() + self.config.max_wait_s
        while len(rows) < self.config.batch_size and time.monotonic() < deadline:
            for partition, offset, value in labels.poll(self.config.batch_size - len(rows)):
                self._offsets[partition] = offset + 1
                self.report.labels_read += 1
                try:
                    txn_id, fraud = parse_label(value)
                except InvalidLabel as exc:
                    self.report.labels_invalid += 1
                    self._dead_letter(value, exc)
                    continue
                if txn_id not in self._index:
                    self.report.labels_unmatched += 1
                    self._dead_letter(value, InvalidLabel("unknown_transaction", (
                        f"no decision for txn_id {txn_id!r} in the learner's index (never "
                        "decided, or older than the index holds)"
                    )))  # fmt: skip
                else:
                    rows.append((txn_id, fraud))
            if labels.at_end:
                return rows, True
        return rows, False

    def _learn(self, labelled: list[tuple[str, bool]]) -> None:
        assert self._index is not None
        champion = self._index.latest_model
        if champion is None:  # only the rules have scored so far: nothing to re-rank
            self.report.labels_other_model += len(labelled)
            return
        if not labelled:
            return
        if self.reranker is None or self.base_model != champion:
            if self.reranker is not None:
                log.warning("the champion is now %s (the re-ranker was for %s): starting a "
                            "fresh re-ranker for it", champion, self.base_model)  # fmt: skip
            self._rescore(champion)  # before the scaling fit, which samples its decisions
            self.reranker, self.base_model = self._new_reranker(champion), champion
        joined = (self._index.row(txn_id, fraud) for txn_id, fraud in labelled)
        rows = [found[1] for found in joined if found is not None and found[0] == champion]
        self.report.labels_other_model += len(labelled) - len(rows)
        if not rows:
            return
        before = self.reranker.version
        verdict = self.reranker.learn_batch(rows)
        self.report.verdicts.append(verdict)
        if self.on_verdict is not None:
            self.on_verdict(verdict)
        if not verdict.accepted:
            self.report.batches_refused += 1
            return
        self.report.batches_accepted += 1
        self.report.labels_learnt += len(rows)
        self._window_changed = True
        if self.reranker.version != before:
            self._publish(self.reranker.snapshot())

    def _publish(self, snapshot: RerankerSnapshot) -> None:
        offsets = {f"{OFFSET_METRIC}{p}": float(o) for p, o in sorted(self._offsets.items())}
        published = replace(snapshot, metrics={**snapshot.metrics, **offsets})
        publish_control(self.settings, RerankerChange(published, self.base_model), self._producer)
        self.report.published.append(published.version)
        log.info("published re-ranker %s", published.version)

    def _dead_letter(self, value: bytes | None, error: InvalidLabel) -> None:
        from fraudguard.wire.transactions import dead_letter

        log.warning("label to %s: %s", self.settings.topics.labels_dlq.name, error)
        record = dead_letter(value, error, int(time.time() * 1000))
        assert self._producer is not None
        self._producer.produce(self.settings.topics.labels_dlq.name, record)
        self.report.labels_dead += 1

    def _commit(self, consumer: Consumer, topic: str) -> None:
        """The round's dead letters, its published snapshot and the labels position after it,
        in one Kafka transaction: a crash before the commit leaves none of them visible to a
        ``read_committed`` reader and re-reads those labels, so each bad label lands in
        ``labels.dlq`` once and each snapshot's recorded offsets match what was committed."""
        assert self._producer is not None
        offsets = [TopicPartition(topic, p, o) for p, o in sorted(self._offsets.items())]
        try:
            if self._window_changed and self.reranker is not None:
                self._save_window(topic)
            if offsets:
                self._producer.send_offsets_to_transaction(
                    offsets, consumer.consumer_group_metadata(), 30
                )
            self._producer.commit_transaction(30)
        except KafkaException as exc:
            raise self._round_failed("commit", exc) from exc
        self._window_changed = False

    def _save_window(self, labels_topic: str) -> None:
        assert self._producer is not None and self.reranker is not None
        state = encode_window(self.reranker, self.base_model)
        if len(state) > MAX_WINDOW_RECORD:
            # Kafka's default record limit is 1 MB; a window this large (guard.window far above
            # its default) is not saved, and a restart starts the loss check empty, as it says.
            log.warning("guard window of %d bytes not saved (limit %d)", len(state),
                        MAX_WINDOW_RECORD)  # fmt: skip
            return
        self._producer.produce(
            self.settings.topics.reranker_state.name, key=labels_topic.encode(), value=state
        )

    def _begin(self) -> None:
        assert self._producer is not None
        try:
            self._producer.begin_transaction()
        except KafkaException as exc:
            raise self._round_failed("begin", exc) from exc

    def _round_failed(self, step: str, exc: KafkaException) -> StackError:
        return StackError(
            f"could not {step} the learner's round (its dead letters, snapshot and labels "
            f"position): {exc}. If another learner was started on "
            f"{self.settings.topics.labels.name!r}, it fences this one."
        )

    def _abort(self) -> None:
        abort_quietly(self._producer)

    # Starting points

    def _adopt_published(self, published: list[RerankerChange], starting: bool = False) -> None:
        """Continue from the newest published snapshot, unless it is the one in force."""
        if not published:
            return
        snapshot = published[-1].snapshot
        if self.reranker is not None and self.reranker.version == snapshot.version:
            return
        before, before_model = self.reranker, self.base_model
        self.reranker = snapshot.restore(self.guard)
        self.base_model = published[-1].base_model_version
        if before is not None and (before.lineage, before_model) == (
            self.reranker.lineage,
            self.base_model,
        ):
            # An operator's rollback changes the parameters, not what the labels said.
            self.reranker.keep_window(*before.window_examples())
        if starting:  # later (an operator's rollback) the learner keeps its place in labels
            self._offsets = labels_offsets(snapshot)
        log.info("continuing from re-ranker %s", snapshot.version)

    def _restore_window(self) -> None:
        """The guard window as the last committed round left it, if it fits the re-ranker in
        force (same base model and lineage); otherwise the loss check starts empty."""
        if self.reranker is None:
            return
        topics = self.settings.topics
        saved = None
        for message in read_topic(self.settings, topics.reranker_state.name, idle_timeout_s=0.0):
            if message.key() == topics.labels.name.encode():
                saved = message.value()
        if saved is None:
            return
        try:
            base_model, lineage, x, y = decode_window(saved)
        except (ValueError, KeyError, OSError) as exc:
            log.warning("the saved guard window cannot be read (%s): it starts empty", exc)
            return
        if (base_model, lineage) != (self.base_model, self.reranker.lineage):
            log.warning("the saved guard window is for %s, not %s: it starts empty",
                        base_model, self.base_model)  # fmt: skip
            return
        self.reranker.keep_window(x, y)
        self.report.window_restored = len(y)
        log.info("guard window restored: %d labels", len(y))

    def _new_reranker(self, model: str) -> Reranker:
        assert self._index is not None
        features = self.reranker_config.features
        sample = self._index.feature_sample(self.config.scaling_sample, model)
        scaling = FeatureScaling.fit(features, sample)
        return Reranker(self.reranker_config, scaling, self.guard)


def learner_group(settings: Settings) -> str:
    """The learner's consumer group on ``labels``, also its Kafka transactional id.

    >>> learner_group(Settings())
    'fraudguard-reranker-labels'
    """
    return f"fraudguard-reranker-{settings.topics.labels.name}"


def _reranker_changes(control: TopicTail) -> list[RerankerChange]:
    """The re-ranker snapshots among the control messages from here to the topic's end."""
    messages = ((offset, value) for _, offset, value in control.drain())
    return [change for _, change in parse_changes(RerankerChange, messages)]
