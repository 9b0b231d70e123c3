"""Send a payment stream to Kafka: transactions keyed by card, labels once they are known.

Three clocks meet here. The token bucket paces sends to ``rate`` per second of wall time. The
event time of a transaction may never be ahead of the wall clock (the scoring job refuses events
from the future), so a stream that catches up with now waits for real time. And a label is sent
only once the simulated clock (the event time of the last transaction sent) has reached its
``reported_at``: a consumer never learns about fraud before the bank did.

The producer is injectable so the pacing, clock and label logic is tested without a broker.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import orjson

from fraudguard.config import Settings
from fraudguard.generator.labels import GroundTruthLabel, LabelQueue
from fraudguard.generator.pacing import TokenBucket
from fraudguard.generator.report import ProduceReport
from fraudguard.generator.stream import PaymentStream

if TYPE_CHECKING:  # the Kafka client is imported only when producing
    from fraudguard.streams.kafka import ProducerLike

PROGRESS_EVERY_S = 1.0
_UNPACED_STEP = 5_000


class _Stopped(Exception):
    """``should_stop`` asked to end early."""


def produce_to_kafka(
    settings: Settings,
    stream: PaymentStream,
    rate: float = 0.0,
    limit: int | None = None,
    on_progress: Callable[[ProduceReport], None] | None = None,
    labels: bool = True,
    producer: ProducerLike | None = None,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    should_stop: Callable[[], bool] | None = None,
) -> ProduceReport:
    """Produce ``stream`` to the transactions topic (and its labels to the labels topic).

    ``rate`` is transactions per second (0: as fast as possible), ``limit`` the most to send.
    Flushes before returning; Ctrl-C, or ``should_stop()`` turning true (checked between
    sends), stops early but still flushes what was sent.
    """
    from fraudguard.streams.kafka import make_producer, produce_waiting

    if producer is None:
        producer = cast("ProducerLike", make_producer(settings))
    txn_topic, label_topic = settings.topics.transactions.name, settings.topics.labels.name
    report = ProduceReport()
    started = last_progress = clock()
    bucket = TokenBucket(rate, burst=max(rate / 10, 1.0), now=started) if rate > 0 else None
    step = int(min(max(rate / 20, 1), _UNPACED_STEP)) if rate > 0 else _UNPACED_STEP
    queue = LabelQueue()

    def delivered(err: Any, _msg: Any) -> None:
        if err is not None:
            report.failed += 1

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
            if labels:
                queue.push(batch.labels)
            values, keys, ts = batch.encoded(), batch.card_id, batch.ts_ms
            i = 0
            while i < len(batch):
                if should_stop is not None and should_stop():
                    raise _Stopped
                now = clock()
                # Never send an event from the future: wait for the wall clock instead.
                j = min(i + step, int(np.searchsorted(ts, now * 1000, side="right")))
                if j <= i:
                    sleep(min(1.0, max(0.001, ts[i] / 1000 - now)))
                    producer.poll(0)
                    continue
                if bucket is not None:
                    pause = bucket.wait(j - i, now)
                    if pause > 0:
                        sleep(pause)
                # The record timestamp is the event time: the job orders each partition by it.
                for k in range(i, j):
                    produce_waiting(producer, txn_topic, values[k], keys[k], delivered, int(ts[k]))
                producer.poll(0)
                report.add_rows(batch.scenario[i:j])
                if report.first_event_ms is None:
                    report.first_event_ms = int(ts[i])
                report.last_event_ms = int(ts[j - 1])
                if labels:
                    send_labels(queue.pop_due(int(ts[j - 1])))
                i = j
                if on_progress is not None and clock() - last_progress >= PROGRESS_EVERY_S:
                    last_progress = clock()
                    report.elapsed_s = last_progress - started
                    on_progress(report)
            if limit is not None and report.transactions >= limit:
                report.stopped, exhausted = "limit", False
                break
        if labels:
            # The stream ended: the simulated clock reached its end, but never passes now.
            end_ms = stream.config.end_ms if exhausted else report.last_event_ms
            if end_ms is not None:
                send_labels(queue.pop_due(min(end_ms, int(clock() * 1000))))
    except (KeyboardInterrupt, _Stopped):
        report.stopped = "interrupted"
    finally:
        report.failed += producer.flush(30)
        report.elapsed_s = clock() - started
    return report
