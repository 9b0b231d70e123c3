"""Training reads the decision log: the features exactly as the job logged them, with labels
from the labels topic, exported from the real stack and trained on."""

from __future__ import annotations

import time
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest

from fraudguard.config import Settings
from fraudguard.features import FEATURE_NAMES
from fraudguard.generator import GeneratorConfig, PaymentStream, produce_to_kafka
from fraudguard.ops.jobrunner import JobRunner
from fraudguard.streams.decision_log import export_log
from fraudguard.streams.kafka import make_producer, read_topic
from fraudguard.streams.tally import DecisionTally
from fraudguard.training import TrainConfig, read_labelled, train

pytestmark = pytest.mark.integration


def test_a_model_trains_on_the_exported_decision_log(
    isolated_settings: Settings, tmp_path: Path
) -> None:
    settings = isolated_settings
    config = GeneratorConfig(seed=21, cards=700, merchants=90, days=9, fraud_rate=0.03,
                             txn_id_prefix="log-")  # fmt: skip
    tally = DecisionTally(settings, id_prefix="log-")
    runner = JobRunner(settings)
    runner.start(detached=True, fresh=True)
    try:
        runner.wait_running(timeout_s=120)
        stream = PaymentStream(config.ending_at(int(time.time() * 1000)))
        sent = produce_to_kafka(settings, stream, labels=False)
        # Every label of the stream, as the bank knows them once all reports are in.
        producer = make_producer(settings)
        truth = [label for batch in stream.batches() for label in batch.labels]
        for label in truth:
            producer.produce(settings.topics.labels.name, orjson.dumps(label.to_dict()))
        assert producer.flush(30) == 0 and len(truth) > 100
        deadline = time.monotonic() + 180
        while tally.decided < sent.transactions and time.monotonic() < deadline:
            tally.poll(0.5)
    finally:
        runner.stop()
    assert tally.decided == sent.transactions and tally.duplicates == 0

    decisions_path = tmp_path / "decisions.parquet"
    labels_path = tmp_path / "decisions.labels.parquet"
    done = export_log(settings, decisions_path, labels_path)
    assert (done.decisions, done.labels, done.skipped) == (sent.transactions, len(truth), 0)

    # The exported features are the logged ones, value for value.
    logged = {}
    for msg in read_topic(settings, settings.topics.decisions.name, idle_timeout_s=0.0):
        record = orjson.loads(msg.value())
        logged[record["txn_id"]] = record["features"]
    table = pq.read_table(decisions_path)
    for row in table.slice(0, 500).to_pylist():
        assert {name: row[name] for name in FEATURE_NAMES} == logged[row["txn_id"]]

    labels = pq.read_table(labels_path).to_pylist()
    frauds = {r["txn_id"] for r in labels if r["label"] == "fraud"}
    data = read_labelled(decisions_path)  # finds decisions.labels.parquet beside it
    assert len(data) == sent.transactions and data.frauds == len(frauds) > 30
    result = train(data, TrainConfig(weights=(1.0, 10.0), folds=2, compare=False), progress=False)
    ap = result.metrics["test"]["average_precision"]
    print(f"trained on the decision log: test AP {ap:.3f} at fraud rate {data.fraud_rate:.3%}")
    assert ap > 10 * data.fraud_rate  # far better than ranking at random
