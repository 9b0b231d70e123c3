"""Producing to Kafka, with a fake producer and a fake clock: pacing, never-in-the-future event
times, ground truth before its payment and marks after it, hindsight labels released only once
the simulated clock reaches them, limits and retries."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from fraudguard.config import Settings
from fraudguard.generator import GeneratorConfig, PaymentStream, produce_to_kafka
from fraudguard.wire.ground_truth import MARK_KEY, Truth, TruthMark, parse_ground_truth
from fraudguard.wire.transactions import parse_transaction

SETTINGS = Settings()
TXNS, LABELS = SETTINGS.topics.transactions.name, SETTINGS.topics.labels.name
TRUTH = SETTINGS.topics.ground_truth.name
HISTORY = GeneratorConfig(seed=4, cards=400, merchants=100, days=10, fraud_rate=0.01)
LATER = datetime(2026, 6, 1, tzinfo=UTC).timestamp()


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.now += seconds


class FakeProducer:
    """Records (topic, key, value, wall clock) per message; acknowledges on poll and flush."""

    def __init__(self, clock: FakeClock, full_every: int = 0, fail: set[int] | None = None):
        self.clock = clock
        self.sent: list[tuple[str, str, bytes, float]] = []
        self._pending: list[tuple[object, int]] = []
        self._full_every = full_every
        self._fail = fail or set()
        self._calls = 0

    def produce(self, topic, value, key, on_delivery=None, timestamp=0):
        self._calls += 1
        if self._full_every and self._calls % self._full_every == 0:
            raise BufferError("queue full")
        self.sent.append((topic, key, value, self.clock()))
        self._pending.append((on_delivery, len(self.sent) - 1))

    def poll(self, timeout=0):
        for callback, index in self._pending:
            callback("broker said no" if index in self._fail else None, None)
        self._pending.clear()
        return 0

    def flush(self, timeout=0):
        self.poll()
        return 0

    def topic(self, name):
        return [(key, value, at) for topic, key, value, at in self.sent if topic == name]


def _produce(config, clock, **kwargs):
    producer = FakeProducer(
        clock, **{k: kwargs.pop(k) for k in ("full_every", "fail") if k in kwargs}
    )
    report = produce_to_kafka(
        SETTINGS, PaymentStream(config), producer=producer, clock=clock, sleep=clock.sleep, **kwargs
    )
    return producer, report


def test_history_is_sent_whole_keyed_by_card_with_labels_known_by_its_end():
    clock = FakeClock(LATER)
    producer, report = _produce(HISTORY, clock, truth_to="labels")
    stream = PaymentStream(HISTORY)
    expected = [v for b in stream.batches() for v in b.encoded()]
    sent = producer.topic(TXNS)
    assert [value for _, value, _ in sent] == expected
    assert all(key == orjson.loads(value)["card_id"] for key, value, _ in sent)
    assert report.transactions == len(expected) and report.stopped == "end"
    assert report.fraud == sum(report.by_scenario.values()) > 0
    assert report.failed == 0
    assert producer.topic(TRUTH) == []

    labels = [orjson.loads(value) for _, value, _ in producer.topic(LABELS)]
    known = [lab for b in stream.batches() for lab in b.labels if lab.reported_ms < HISTORY.end_ms]
    assert sorted(lab["txn_id"] for lab in labels) == sorted(lab.txn_id for lab in known)
    assert report.labels == len(labels) < sum(len(b.labels) for b in stream.batches())
    assert all(
        key == lab["card_id"]
        for (key, _, _), lab in zip(producer.topic(LABELS), labels, strict=True)
    )
    payments = {orjson.loads(v)["txn_id"]: orjson.loads(v) for _, v, _ in sent}
    for lab in labels:  # each hindsight label names its payment's entities
        payment = payments[lab["txn_id"]]
        assert (lab["merchant_id"], lab["terminal_id"]) == (
            payment["merchant_id"],
            payment["terminal_id"],
        )


def test_labels_never_arrive_before_the_simulated_clock_reaches_them():
    clock = FakeClock(LATER)
    producer, _ = _produce(HISTORY, clock, truth_to="labels")
    sim_clock = 0
    for topic, _, value, _ in producer.sent:
        record = orjson.loads(value)
        if topic == TXNS:
            sim_clock = parse_transaction(value).ts_ms
        else:
            reported = int(datetime.fromisoformat(record["reported_at"]).timestamp() * 1000)
            assert reported <= sim_clock


def test_a_live_stream_never_sends_events_from_the_future():
    clock = FakeClock(datetime(2026, 3, 2, 12, tzinfo=UTC).timestamp())
    live = HISTORY.model_copy(update={"days": 1.0}).ending_at(int(clock() * 1000))
    live = live.model_copy(update={"days": None})  # keeps going past now, in real time
    history = sum(len(b) for b in PaymentStream(live.model_copy(update={"days": 1.0})).batches())
    producer, report = _produce(live, clock, limit=history + 100)
    assert report.transactions == history + 100 and report.stopped == "limit"
    for _, value, at in producer.topic(TXNS):
        assert parse_transaction(value, now_ms=int(at * 1000), max_future_ms=0)
    assert clock() * 1000 > live.start_ms + 86_400_000  # it had to wait for real time


def test_rate_paces_the_sends():
    clock = FakeClock(LATER)
    _, report = _produce(HISTORY, clock, rate=2_000, limit=4_000)
    assert report.transactions == 4_000 and report.stopped == "limit"
    assert report.elapsed_s == pytest.approx(2.0, abs=0.25)


@pytest.mark.parametrize("route", ["labels", "ground_truth"])
def test_limit_sends_only_the_labels_of_what_was_sent(route):
    clock = FakeClock(LATER)
    producer, report = _produce(HISTORY, clock, limit=3_000, truth_to=route)
    sent = {orjson.loads(v)["txn_id"] for _, v, _ in producer.topic(TXNS)}
    assert len(sent) == 3_000
    topic = LABELS if route == "labels" else TRUTH
    labels = [v for key, v, _ in producer.topic(topic) if key != MARK_KEY]
    assert labels and {orjson.loads(v)["txn_id"] for v in labels} <= sent
    assert report.labels == len(labels)


def test_ground_truth_goes_with_each_payment_and_marks_vouch_for_what_was_sent():
    """Every label of every payment sent is on ``ground_truth`` (none on ``labels``), before
    its payment; a mark never passes a payment whose truth is still to come, and the last
    one covers the whole stream."""
    clock = FakeClock(LATER)
    producer, report = _produce(HISTORY, clock, rate=5_000)
    stream = PaymentStream(HISTORY)
    assert producer.topic(LABELS) == []
    truth_of = {lab.txn_id: lab for b in stream.batches() for lab in b.labels}
    sent_truth: set[str] = set()
    marked = -1
    marks = 0
    for topic, key, value, _ in producer.sent:
        if topic == TXNS:
            txn = parse_transaction(value)
            assert txn.ts_ms > marked  # a mark never vouches for a payment not yet sent
            if txn.txn_id in truth_of:
                assert txn.txn_id in sent_truth  # its truth went first
            continue
        assert topic == TRUTH
        record = parse_ground_truth(value)
        if isinstance(record, TruthMark):
            assert key == MARK_KEY and record.through_ms > marked
            marked, marks = record.through_ms, marks + 1
        else:
            assert isinstance(record, Truth) and key == truth_of[record.txn_id].card_id
            assert record.fraud == (truth_of[record.txn_id].label == "fraud")
            sent_truth.add(record.txn_id)
    assert sent_truth == set(truth_of) and report.labels == len(truth_of)
    assert marks > 10 and marked == HISTORY.end_ms


def test_a_run_starts_with_a_mark_just_before_its_first_payment():
    """A reader's mark may stand further on, left by an earlier run: this one moves it back
    before sending any truth."""
    clock = FakeClock(LATER)
    producer, _ = _produce(HISTORY, clock, limit=10)
    first_truth = producer.topic(TRUTH)[0]
    first_payment = parse_transaction(producer.topic(TXNS)[0][1])
    assert first_truth[0] == MARK_KEY
    assert parse_ground_truth(first_truth[1]) == TruthMark(first_payment.ts_ms - 1)


def test_a_stopped_stream_marks_what_it_sent_and_no_further():
    clock = FakeClock(LATER)
    producer, report = _produce(HISTORY, clock, limit=3_000)
    marks = [parse_ground_truth(v) for key, v, _ in producer.topic(TRUTH) if key == MARK_KEY]
    assert marks[-1] == TruthMark(report.last_event_ms)


def test_full_queue_is_retried_and_failures_are_counted():
    clock = FakeClock(LATER)
    producer, report = _produce(
        HISTORY, clock, limit=2_000, full_every=97, fail={5, 6}, labels=False
    )
    assert len(producer.topic(TXNS)) == 2_000
    assert producer.topic(LABELS) == []
    assert report.failed == 2


def test_progress_is_reported():
    clock = FakeClock(LATER)
    seen = []
    _produce(
        HISTORY, clock, rate=1_000, limit=3_000, on_progress=lambda r: seen.append(r.transactions)
    )
    assert seen and seen == sorted(seen)


def test_should_stop_ends_early_and_flushes_what_was_sent():
    clock = FakeClock(LATER)
    asked = {"n": 0}

    def stop_after_three_checks() -> bool:
        asked["n"] += 1
        return asked["n"] > 3

    producer, report = _produce(HISTORY, clock, rate=1000, should_stop=stop_after_three_checks)
    sent = producer.topic(TXNS)
    assert report.stopped == "interrupted"
    assert 0 < report.transactions == len(sent) < len(list(PaymentStream(HISTORY).transactions()))


def test_id_prefix_keeps_runs_apart_and_the_rest_of_the_stream_equal():
    plain = next(PaymentStream(HISTORY).transactions())
    tagged = next(
        PaymentStream(HISTORY.model_copy(update={"txn_id_prefix": "run2-"})).transactions()
    )
    assert tagged.txn_id == "run2-" + plain.txn_id
    assert (tagged.card_id, tagged.amount, tagged.event_time) == (
        plain.card_id,
        plain.amount,
        plain.event_time,
    )
    with pytest.raises(ValueError, match="txn_id_prefix"):
        GeneratorConfig(txn_id_prefix="has space")
