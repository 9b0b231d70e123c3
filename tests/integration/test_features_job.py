"""The job's features against the offline path, on the real stack.

The parity test streams 50,000 generated transactions through the PyFlink job (6 partitions,
parallelism 2, sent out of event-time order within the allowed disorder), with labels on
``labels`` reported before, between and after the payments, and compares every feature of every
decision (read_committed), the label-fed ones included, with ``build_features`` on the same
transactions and labels.
The fault test kills the job hard part-way through 100,000 (with labels) and checks, after it
resumed from its checkpoint, that every transaction was decided exactly once with the offline
values.
"""

from __future__ import annotations

import random
import time
import uuid

import orjson
import pytest

from fraudguard.config import Settings
from fraudguard.features import FEATURE_NAMES, build_features
from fraudguard.features.labels import FraudLabels
from fraudguard.generator import GeneratorConfig, PaymentStream, produce_to_kafka
from fraudguard.ops.jobrunner import JobRunner
from fraudguard.stack import create_topics, delete_topics
from fraudguard.streams.kafka import assigned_consumer, make_producer, produce_waiting
from fraudguard.wire.transactions import Transaction, format_event_time

pytestmark = pytest.mark.integration


class DecisionReader:
    """Every decision of a topic with its features, counting duplicates."""

    def __init__(self, settings: Settings, isolation: str = "read_committed") -> None:
        self.consumer = assigned_consumer(settings, settings.topics.decisions.name, isolation)
        self.features: dict[str, dict[str, float]] = {}
        self.records: dict[str, dict] = {}
        self.duplicates = 0

    def poll(self, timeout_s: float = 0.5) -> None:
        for msg in self.consumer.consume(num_messages=20_000, timeout=timeout_s):
            if msg.error():
                continue
            record = orjson.loads(msg.value())
            if record["txn_id"] in self.features:
                self.duplicates += 1
            self.features[record["txn_id"]] = record["features"]
            self.records[record["txn_id"]] = record

    def wait_for(self, count: int, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while len(self.features) < count and time.monotonic() < deadline:
            self.poll()
        settle = time.monotonic() + 3  # a duplicate would come after the last first decision
        while time.monotonic() < settle:
            self.poll()

    def close(self) -> None:
        self.consumer.close()


def generated(
    settings: Settings, count: int, cards: int, days: float, disorder_ms: int = 0
) -> GeneratorConfig:
    """Produce ``count`` generated transactions; with ``disorder_ms``, each is sent as if
    delayed by up to that much, so every partition receives them out of event-time order."""
    config = GeneratorConfig(
        seed=11, cards=cards, merchants=300, days=days, fraud_rate=0.005,
        txn_id_prefix=f"p{uuid.uuid4().hex[:6]}-",
    )  # fmt: skip
    config = config.ending_at(int(time.time() * 1000))
    if not disorder_ms:
        report = produce_to_kafka(
            settings, PaymentStream(config), rate=0, limit=count, labels=False
        )
        assert report.transactions == count and report.failed == 0
        return config
    txns = first_transactions(config, count)
    rng = random.Random(7)
    sent_at = [txn.ts_ms + rng.uniform(0, disorder_ms) for txn in txns]
    producer = make_producer(settings)
    topic = settings.topics.transactions.name
    order = sorted(range(count), key=sent_at.__getitem__)
    inverted = sum(txns[a].ts_ms > txns[b].ts_ms for a, b in zip(order, order[1:], strict=False))
    assert inverted > count // 10, f"only {inverted} of {count} sent before an older one"
    for i in order:
        txn = txns[i]
        produce_waiting(producer, topic, orjson.dumps(txn.to_wire()), txn.card_id, None, txn.ts_ms)
    assert producer.flush(60) == 0
    return config


def first_transactions(config: GeneratorConfig, count: int) -> list[Transaction]:
    txns = []
    for txn in PaymentStream(config).transactions():
        txns.append(txn)
        if len(txns) == count:
            break
    return txns


def offline_features(
    config: GeneratorConfig, count: int, settings: Settings, labels: list[dict] | None = None
) -> dict:
    txns = first_transactions(config, count)
    fraud = FraudLabels.of(labels or []).labels
    return {
        txn.txn_id: features
        for txn, features in build_features(
            txns, dedupe_ttl_ms=settings.flink.dedupe_ttl_ms, labels=fraud
        )
    }


LABEL_DELAYS_MS = (0, 1, 30_000, 3_600_000, 86_400_000, 4 * 86_400_000)


def label_documents(txns: list[Transaction], seed: int = 5) -> list[dict]:
    """Labels of the payments as the bank would report them, in report order: fraud for one in
    twelve (a few reported twice), some legitimate verdicts, some without their entities;
    reported before the first payment (of earlier payments at the same merchants and
    terminals), between the payments (at their own millisecond among them), and after the
    last."""
    rng = random.Random(seed)
    first, last = txns[0].ts_ms, txns[-1].ts_ms
    docs = []

    def label(txn: Transaction, txn_id: str, verdict: str, reported_ms: int) -> dict:
        return {
            "txn_id": txn_id, "card_id": txn.card_id, "merchant_id": txn.merchant_id,
            "terminal_id": txn.terminal_id, "label": verdict, "source": "chargeback",
            "event_time": format_event_time(txn.ts_ms),
            "reported_at": format_event_time(reported_ms),
        }  # fmt: skip

    for i, txn in enumerate(rng.sample(txns, 600)):  # earlier payments, reported before
        reported = first - rng.randrange(1, 10 * 86_400_000)
        docs.append(label(txn, f"before-{i}", "fraud", reported))
    for txn in txns:
        draw = rng.random()
        if draw < 1 / 12:
            for _ in range(2 if draw < 1 / 60 else 1):
                reported = txn.ts_ms + rng.choice(LABEL_DELAYS_MS)
                docs.append(label(txn, txn.txn_id, "fraud", reported))
        elif draw < 1 / 10:
            docs.append(label(txn, txn.txn_id, "legit", txn.ts_ms + 3_600_000))
        elif draw < 1 / 9:
            doc = label(txn, txn.txn_id, "fraud", txn.ts_ms + 60_000)
            del doc["terminal_id"]  # an older producer's label: it feeds no feature
            docs.append(doc)
    for i, txn in enumerate(rng.sample(txns, 200)):  # after the last payment
        docs.append(label(txn, f"after-{i}", "fraud", last + rng.randrange(1, 86_400_000)))
    return sorted(docs, key=lambda doc: doc["reported_at"])


def send_labels(settings: Settings, docs: list[dict]) -> None:
    producer = make_producer(settings)
    for doc in docs:
        produce_waiting(producer, settings.topics.labels.name, orjson.dumps(doc), doc["card_id"])
    assert producer.flush(60) == 0


def mismatches(stream: dict, offline: dict, limit: int = 5) -> list[str]:
    found = []
    for txn_id, expected in offline.items():
        got = stream.get(txn_id)
        if got != expected:
            diff = {
                n: (got.get(n), expected[n]) for n in FEATURE_NAMES if got.get(n) != expected[n]
            }
            found.append(f"{txn_id}: {diff}")
            if len(found) == limit:
                break
    return found


def test_stream_and_offline_features_are_identical_on_50k_out_of_order_transactions(
    isolated_settings: Settings,
) -> None:
    # A minute of allowed disorder: the stream has a payment every 13 s on average, so sending
    # each up to 59 s late reorders a good share of every partition, and of every merchant.
    flink = isolated_settings.flink.model_copy(
        update={"parallelism": 2, "event_time_order": True, "out_of_orderness_ms": 60_000}
    )
    source = isolated_settings.topics.transactions
    transactions = source.model_copy(update={"name": f"{source.name}-6p", "partitions": 6})
    topics = isolated_settings.topics.model_copy(update={"transactions": transactions})
    settings = isolated_settings.model_copy(update={"flink": flink, "topics": topics})
    create_topics(settings)
    try:
        parity_on_50k_out_of_order(settings, 50_000)
    finally:
        delete_topics(settings, [transactions.name])


def parity_on_50k_out_of_order(settings: Settings, count: int) -> None:
    config = generated(settings, count, cards=4000, days=7.5, disorder_ms=59_000)
    labels = label_documents(first_transactions(config, count))
    send_labels(settings, labels)
    runner = JobRunner(settings)
    reader = DecisionReader(settings)
    runner.start(detached=True, fresh=True)
    try:
        offline = offline_features(config, count, settings, labels)
        runner.wait_running(timeout_s=180)
        reader.wait_for(count, timeout_s=400)
    finally:
        runner.stop()
        reader.close()
    assert len(offline) == count
    assert len(reader.features) == count, f"{count - len(reader.features)} missing"
    assert reader.duplicates == 0
    late = [t for t, r in reader.records.items() if r["late"]]
    wrong = mismatches(reader.features, offline, limit=count)
    assert (len(late), len(wrong)) == (0, 0), wrong[:3]
    label_fed = [n for n in FEATURE_NAMES if "fraud" in n]
    fed = sum(any(f[n] for n in label_fed) for f in offline.values())
    assert len(label_fed) == 7 and fed > count // 2, f"labels fed only {fed} payments"
    sample = list(reader.features.values())[:100]
    assert all(list(f) == list(FEATURE_NAMES) for f in sample)
    assert all(type(v) is float for f in sample for v in f.values())  # as offline: no ints
    assert_online_store_holds_the_newest(settings, offline, config, count)


def assert_online_store_holds_the_newest(
    settings: Settings, offline: dict, config: GeneratorConfig, count: int
) -> None:
    """Redis holds, per card and merchant, the features of its newest transaction."""
    from fraudguard.features import processing_order
    from fraudguard.features.online_store import OnlineFeatureReader

    newest: dict[tuple[str, str], tuple] = {}
    for i, txn in enumerate(PaymentStream(config).transactions()):
        if i == count:
            break
        for key in (("card", txn.card_id), ("merchant", txn.merchant_id)):
            if key not in newest or processing_order(txn) > processing_order(newest[key]):
                newest[key] = txn
    store = OnlineFeatureReader.from_settings(settings)
    sample = sorted(newest)[:: max(1, len(newest) // 300)]
    for entity, entity_id in sample:
        txn = newest[(entity, entity_id)]
        stored = store.get(entity, entity_id)
        assert stored is not None, (entity, entity_id)
        assert (stored.ts_ms, stored.txn_id) == (txn.ts_ms, txn.txn_id)
        expected = {n: v for n, v in offline[txn.txn_id].items() if n.startswith(entity + "_")}
        assert stored.features == expected


def test_a_hard_kill_mid_stream_loses_and_repeats_nothing_and_keeps_the_features(
    isolated_settings: Settings,
) -> None:
    # A merchant cache far smaller than the 300 merchants: states leave it all the time, so
    # the kill and the restore also cover states written on eviction, not only at checkpoints.
    flink = isolated_settings.flink.model_copy(update={"merchant_state_cache": 20})
    settings, count = isolated_settings.model_copy(update={"flink": flink}), 100_000
    config = generated(settings, count, cards=4000, days=13.5)
    assert config.merchants > 10 * flink.merchant_state_cache
    labels = label_documents(first_transactions(config, count))
    send_labels(settings, labels)  # their states, too, must come back from the checkpoint
    runner = JobRunner(settings)
    progress = DecisionReader(settings, isolation="read_uncommitted")
    kill_after = random.randint(5_000, 60_000)
    runner.start(detached=True, fresh=True)
    try:
        offline = offline_features(config, count, settings, labels)
        runner.wait_running(timeout_s=180)
        deadline = time.monotonic() + 300
        # The kill lands after kill_after decisions and at least one completed checkpoint (a
        # fast job can decide thousands before its first one).
        while (
            len(progress.features) < kill_after or runner.status().latest_checkpoint is None
        ) and time.monotonic() < deadline:
            progress.poll()
        runner.kill_hard()  # SIGKILL the driver and the Flink JVM, no cancel
        assert runner.pid() is None
        runner.start(detached=True)
        restored = (settings.job_dir / "restored_from").read_text()
        assert "chk-" in restored, "the restart did not resume from a checkpoint"
        runner.wait_running(timeout_s=180)
        committed = DecisionReader(settings)
        committed.wait_for(count, timeout_s=600)
    finally:
        runner.stop()
        progress.close()
    committed.close()
    print(f"killed after {kill_after} uncommitted decisions; resumed from {restored}")
    assert len(committed.features) == count, f"lost {count - len(committed.features)}"
    assert committed.duplicates == 0
    assert mismatches(committed.features, offline) == []
