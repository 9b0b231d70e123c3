"""Send a payment stream to Kafka: transactions keyed by card, and the generator's labels.

Where the labels go is the caller's choice (``truth_to``):

- ``ground_truth`` (the default): to the ``ground_truth`` topic, each with its payment (just
  before it), followed by progress marks (:mod:`fraudguard.wire.ground_truth`). This is what
  a bank never sees; the outcomes service (``fraudguard outcomes run``) turns it into the
  labels the bank's decisions let it learn, and evaluation may read it.
- ``labels``: to ``labels`` itself, each once the simulated clock (the event time of the last
  transaction sent) has reached its ``reported_at``: hindsight labels, every fraud learnt
  whatever was decided, for tests and tools that want labels without the outcomes service.

Three clocks meet here. The token bucket paces sends to ``rate`` per second of wall time. The
event time of a transaction may never be ahead of the wall clock (the scoring job refuses events
from the future), so a stream that catches up with now waits for real time. And a hindsight
label waits for the simulated clock: a consumer never learns about fraud before the bank did.

The producer is injectable so the pacing, clock and label logic is tested without a broker.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, cast

import numpy as np
import orjson

from fraudguard.config import Settings
from fraudguard.generator.labels import GroundTruthLabel, LabelQueue
from fraudguard.generator.pacing import TokenBucket
from fraudguard.generator.report import ProduceReport
from fraudguard.generator.stream import PaymentStream
from fraudguard.wire.ground_truth import MARK_KEY, encode_mark

if TYPE_CHECKING:  # the Kafka client is imported only when producing
    from fraudguard.streams.kafka import ProducerLike

PROGRESS_EVERY_S = 1.0
_UNPACED_STEP = 5_000
TruthRoute = Literal["ground_truth", "labels"]
_NO_MARK = -(2**63)


class _Stopped(Exception):
    """``should_stop`` asked to end early."""


def produce_to_kafka(
    settings: Settings,
    stream: PaymentStream,
    rate: float = 0.0,
    limit: int | None = None,
    on_progress: Callable[[ProduceReport], None] | None = None,
    labels: bool = True,
    truth_to: TruthRoute = "ground_truth",
    producer: ProducerLike | None = None,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    should_stop: Callable[[], bool] | None = None,
) -> ProduceReport:
    """Produce ``stream`` to the transactions topic, and with ``labels`` its labels to the
    topic ``truth_to`` names (module docstring).

    ``rate`` is transactions per second (0: as fast as possible), ``limit`` the most to send.
    Flushes before returning; Ctrl-C, or ``should_stop()`` turning true (checked between
    sends), stops early but still flushes what was sent.
    """
    from fraudguard.streams.kafka import make_producer, produce_waiting

    if producer is None:
        producer = cast("ProducerLike", make_producer(settings))
    txn_topic = settings.topics.transactions.name
    hindsight = labels and truth_to == "labels"
    truth = None
    if labels and not hindsight:
        truth = _TruthSender(producer, settings.topics.ground_truth.name)
    label_topic = settings.topics.labels.name
    report = ProduceReport()
    started = last_progress = clock()
    bucket = TokenBucket(rate, burst=max(rate / 10, 1.0), now=started) if rate > 0 else None
    step = int(min(max(rate / 20, 1), _UNPACED_STEP)) if rate > 0 else _UNPACED_STEP
    queue = LabelQueue()

    def delivered(err: Any, _msg: Any) -> None:
        if err is not None:
            report.failed += 1

    if truth is not None:
        truth.on_delivery = delivered

    def send_labels(due: list[GroundTruthLabel]) -> None:
        for label in due:
            value = orjson.dumps(label.to_dict())
            produce_waiting(producer, label_topic, value, label.card_id, delivered)
        report.labels += len(due)

    exhausted = True
    try:
        for batch in stream.batches():
            if limit is not None:
                batch = batch.head(limit - report.transactions)
            if hindsight:
                queue.push(batch.labels)
            if truth is not None:
                truth.start_batch(batch.txn_ids, batch.labels, int(batch.ts_ms[0]) - 1)
            values, keys, ts = batch.encoded(), batch.card_id, batch.ts_ms
            i = 0
            while i < len(batch):
                if should_stop is not None and should_stop():
                    raise _Stopped
                now = clock()
                # Never send an event from the future: wait for the wall clock instead.
                j = min(i + step, int(np.searchsorted(ts, now * 1000, side="right")))
                if j <= i:
                    if truth is not None:  # every payment before the next one is sent
                        truth.mark(int(ts[i]) - 1)
                    sleep(min(1.0, max(0.001, ts[i] / 1000 - now)))
                    producer.poll(0)
                    continue
                if bucket is not None:
                    pause = bucket.wait(j - i, now)
                    if pause > 0:
                        sleep(pause)
                if truth is not None:  # a payment's truth goes before it
                    report.labels += truth.send_rows(i, j, ts)
                # The record timestamp is the event time: the job orders each partition by it.
                for k in range(i, j):
                    produce_waiting(producer, txn_topic, values[k], keys[k], delivered, int(ts[k]))
                producer.poll(0)
                report.add_rows(batch.scenario[i:j])
                if report.first_event_ms is None:
                    report.first_event_ms = int(ts[i])
                report.last_event_ms = int(ts[j - 1])
                if hindsight:
                    send_labels(queue.pop_due(int(ts[j - 1])))
                if truth is not None:  # a later payment may share the last one's millisecond
                    truth.mark(int(ts[j - 1]) - 1)
                i = j
                if on_progress is not None and clock() - last_progress >= PROGRESS_EVERY_S:
                    last_progress = clock()
                    report.elapsed_s = last_progress - started
                    on_progress(report)
            if limit is not None and report.transactions >= limit:
                report.stopped, exhausted = "limit", False
                break
        if hindsight:
            # The stream ended: the simulated clock reached its end, but never passes now.
            end_ms = stream.config.end_ms if exhausted else report.last_event_ms
            if end_ms is not None:
                send_labels(queue.pop_due(min(end_ms, int(clock() * 1000))))
    except (KeyboardInterrupt, _Stopped):
        report.stopped = "interrupted"
    finally:
        if truth is not None:
            # Nothing more comes from this stream: every payment it sent has its truth on the
            # topic, and so has every moment up to its end once it ran out.
            through = report.last_event_ms if report.last_event_ms is not None else -1
            end_ms = stream.config.end_ms
            if exhausted and report.stopped != "interrupted" and end_ms is not None:
                through = max(through, min(end_ms, int(clock() * 1000)))
            truth.mark(through)
        report.failed += producer.flush(30)
        report.elapsed_s = clock() - started
    return report


class _TruthSender:
    """The ground truth of the rows sent, each just before its payment, then a mark."""

    def __init__(self, producer: ProducerLike, topic: str) -> None:
        self.producer = producer
        self.topic = topic
        self.on_delivery: Any = None
        self._rows: dict[int, GroundTruthLabel] = {}
        self._marked = _NO_MARK

    def start_batch(
        self, txn_ids: list[str], labels: list[GroundTruthLabel], before_ms: int
    ) -> None:
        """A batch's truth, by row; the run's first batch starts with a mark just before its
        first payment, which moves a reader's mark back from where an earlier run left it."""
        row = {txn_id: k for k, txn_id in enumerate(txn_ids)}
        self._rows = {row[label.txn_id]: label for label in labels}
        if self._marked == _NO_MARK:
            self._send_mark(before_ms)

    def send_rows(self, first: int, stop: int, ts: np.ndarray) -> int:
        """The truth of rows ``[first, stop)`` of the batch; how many records."""
        from fraudguard.streams.kafka import produce_waiting

        sent = 0
        for k in range(first, stop):
            label = self._rows.get(k)
            if label is not None:
                value = orjson.dumps(label.to_dict())
                produce_waiting(self.producer, self.topic, value, label.card_id,
                                self.on_delivery, int(ts[k]))  # fmt: skip
                sent += 1
        return sent

    def mark(self, through_ms: int) -> None:
        """Say that every payment at or before ``through_ms`` has had its truth sent (when
        that says more than the last mark; nothing before the run's first batch)."""
        if self._marked != _NO_MARK and through_ms > self._marked:
            self._send_mark(through_ms)

    def _send_mark(self, through_ms: int) -> None:
        from fraudguard.streams.kafka import produce_waiting

        produce_waiting(self.producer, self.topic, encode_mark(through_ms), MARK_KEY,
                        self.on_delivery, max(through_ms, 0))  # fmt: skip
        self._marked = through_ms
