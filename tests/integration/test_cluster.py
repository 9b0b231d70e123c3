"""The scoring job on a real Flink session cluster (``fraudguard cluster up``, ``job submit``,
``job upgrade``): a TaskManager SIGKILLed mid-stream, and an upgrade through a savepoint.

Each test runs a cluster of its own (its own ports and folders under the home) and counts
decisions on the decisions topic with read_committed, never from the job's bookkeeping.
"""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import orjson
import pytest

from fraudguard.config import Settings
from fraudguard.features import build_features
from fraudguard.generator import GeneratorConfig, PaymentStream, produce_to_kafka
from fraudguard.metrics.exposition import fetch, parse_text
from fraudguard.metrics.names import DECISIONS
from fraudguard.ops.cluster_job import ClusterJob, savepoint_root
from fraudguard.stack.flink_cluster import FlinkCluster
from fraudguard.stack.ports import free_port
from fraudguard.stack.process import is_running
from fraudguard.streams.kafka import make_producer, read_topic
from fraudguard.streams.tally import DecisionTally

if TYPE_CHECKING:
    from tests.integration.conftest import Backlog

pytestmark = pytest.mark.integration


@pytest.fixture
def cluster_settings(
    isolated_settings: Settings, request: pytest.FixtureRequest
) -> Iterator[Settings]:
    """The test's settings with a running cluster of their own (free ports, folders named by
    the test's job), stopped afterwards; its logs stay when the test failed."""
    name = isolated_settings.flink.job_name
    ports = {"rest_port": free_port(), "rpc_port": free_port(), "metrics_port": free_port()}
    cluster = isolated_settings.cluster.model_copy(update={"name": name, **ports})
    settings = isolated_settings.model_copy(update={"cluster": cluster})
    flink_cluster = FlinkCluster(settings)
    failed_before = request.session.testsfailed
    started = time.monotonic()
    try:
        flink_cluster.up()
        print(f"cluster up (a TaskManager registered) in {time.monotonic() - started:.1f} s")
        yield settings
    finally:
        flink_cluster.down()
        paths = flink_cluster.paths
        shutil.rmtree(paths.root, ignore_errors=True)
        shutil.rmtree(savepoint_root(settings), ignore_errors=True)
        if request.session.testsfailed == failed_before:
            shutil.rmtree(paths.log_dir, ignore_errors=True)
            shutil.rmtree(paths.run_dir, ignore_errors=True)


def wait_until(what: str, done: Any, timeout_s: float) -> float:
    """Poll ``done()`` until true; seconds it took. A timeout fails the test saying ``what``."""
    started = time.monotonic()
    while not done():
        assert time.monotonic() - started < timeout_s, f"{what}: not within {timeout_s:.0f} s"
        time.sleep(0.2)
    return time.monotonic() - started


def test_a_killed_taskmanager_loses_and_repeats_no_decision(
    cluster_settings: Settings, backlog: type[Backlog]
) -> None:
    settings, count = cluster_settings, 30_000
    ids = backlog.produce(settings, count, "c")
    cluster, job = FlinkCluster(settings), ClusterJob(settings)
    progress = DecisionTally(settings, expected=ids, isolation="read_uncommitted")
    submission, _ = job.start(fresh=True, timeout_s=180)
    job_id = submission.job_id
    try:
        # Part-way, after a completed checkpoint: SIGKILL the TaskManager's JVM, no cancel.
        deadline = time.monotonic() + 120
        while progress.decided < 3000 and time.monotonic() < deadline:
            progress.poll(0.5)
        assert progress.decided >= 3000, f"only {progress.decided} decided in 120 s"
        assert progress.decided < count, "the job decided everything before the kill"
        [taskmanager] = cluster.taskmanager_pids()
        killed_at = time.monotonic()
        os.kill(taskmanager, signal.SIGKILL)
        wait_until("the TaskManager exits", lambda: not is_running(taskmanager), 10)
        decided_at_kill = progress.decided
        cluster.up()  # no TaskManager runs: `cluster up` starts one
        taskmanager_back_s = time.monotonic() - killed_at
        assert cluster.taskmanager_pids() and cluster.taskmanager_pids() != [taskmanager]
        wait_until(
            "Flink restores the job from a checkpoint",
            lambda: job.rest.restored_checkpoint(job_id) is not None,
            180,
        )
        restored = job.rest.restored_checkpoint(job_id) or 0
        job.wait_running(job_id, timeout_s=180, after_checkpoint=restored)
        recovered_s = time.monotonic() - killed_at
        committed = DecisionTally(settings, expected=ids)
        backlog.wait_for(committed, count, timeout_s=300)
    finally:
        job.cancel()
        progress.close()
    committed.close()
    print(
        f"killed the TaskManager after {decided_at_kill} uncommitted decisions; a TaskManager "
        f"registered again {taskmanager_back_s:.1f} s and the job ran again (restored checkpoint "
        f"{restored}, a new one completed) {recovered_s:.1f} s after the kill; "
        f"decided {committed.decided} of {count}, duplicates {committed.duplicates}"
    )
    assert committed.decided == count, f"lost {committed.missing()}"
    assert committed.duplicates == 0 and committed.unkeyed == 0
    assert job.rest.job(job_id).state == "CANCELED"  # the same job came back, not a new one
    redone = backlog.assert_redone_identically(settings, progress.topic)
    print(f"decisions written again after the crash, identical to the aborted ones: {redone}")


class _Recorder:
    """A producer that keeps what it is given: the generator's records, to send in parts."""

    def __init__(self) -> None:
        self.records: list[tuple[bytes, str, int]] = []

    def produce(self, topic: str, value: bytes, key: str, on_delivery: Any = None,
                timestamp: int = 0) -> None:  # fmt: skip
        self.records.append((value, key, timestamp))

    def poll(self, timeout: float = 0) -> int:
        return 0

    def flush(self, timeout: float = 0) -> int:
        return 0


SEND_RATE = 800.0
"""Transactions a second of the upgrade test: 50 s for its 40,000."""


def send(settings: Settings, records: list[tuple[bytes, str, int]], rate: float) -> None:
    """Send ``records`` to ``transactions`` at ``rate`` a second."""
    producer = make_producer(settings)
    started = time.monotonic()
    for sent, (value, key, timestamp) in enumerate(records):
        producer.produce(settings.topics.transactions.name, value, key, timestamp=timestamp)
        producer.poll(0)
        if sent % 100 == 0:
            time.sleep(max(0.0, started + sent / rate - time.monotonic()))
    assert producer.flush(30) == 0


def metric_total(settings: Settings, name: str) -> float:
    """The sum of a job metric's samples, as the cluster's TaskManager reports them now."""
    url = f"http://{settings.cluster.host}:{settings.cluster.metrics_port}/metrics"
    samples = parse_text(fetch(url))
    job_name = settings.flink.job_name
    return sum(s.value for s in samples if s.name == name and s.labels.get("job_name") == job_name)


def read_up_to(tally: DecisionTally, count: int) -> bool:
    """Read what came; whether ``count`` transactions are decided."""
    tally.poll(0.5)
    return tally.decided >= count


def test_an_upgrade_through_a_savepoint_keeps_the_state_and_every_decision(
    cluster_settings: Settings,
) -> None:
    settings, count = cluster_settings, 40_000
    config = GeneratorConfig(
        seed=29, cards=2000, merchants=200, days=12.0, fraud_rate=0.005,
        txn_id_prefix=f"u{uuid.uuid4().hex[:6]}-",
    ).ending_at(int(time.time() * 1000))  # fmt: skip
    recorder = _Recorder()
    produce_to_kafka(settings, PaymentStream(config), limit=count, labels=False, producer=recorder)
    records = recorder.records
    assert len(records) == count
    job = ClusterJob(settings)
    tally = DecisionTally(settings, id_prefix=config.txn_id_prefix)
    progress = DecisionTally(
        settings, id_prefix=config.txn_id_prefix, isolation="read_uncommitted"
    )
    # The stream comes at a steady rate, from before the job starts until after the upgrade, so
    # the upgrade falls mid-stream, under traffic. Sent all at once, the old job could decide
    # nearly all of it before the savepoint's barrier came through the records in flight; sent
    # in parts to a job whose partitions had all gone idle, a backlog of old events comes partly
    # late, and then with other features (docs/decisions/0009: the source counts an idle
    # partition out until its records arrive).
    sender = threading.Thread(target=send, args=(settings, records, SEND_RATE), daemon=True)
    sender.start()
    submission, _ = job.start(fresh=True, timeout_s=180)
    try:
        wait_until("the job is deciding", lambda: read_up_to(progress, count // 20), 240)
        started = time.monotonic()
        savepoint, upgraded = job.upgrade(timeout_s=180)
        upgrade_s = time.monotonic() - started
        assert (savepoint / "_metadata").is_file()
        assert savepoint.parent == savepoint_root(settings)
        assert upgraded.restored_from == savepoint
        assert job.rest.restored_checkpoint(upgraded.job_id) is not None
        assert job.rest.job(submission.job_id).state == "FINISHED"
        sender.join(timeout=120)
        wait_until("every transaction is decided", lambda: read_up_to(tally, count), 300)
        for _ in range(6):  # a duplicate would come after the last first decision
            tally.poll(0.5)
        decided_metric = metric_total(settings, DECISIONS.prometheus_name)
    finally:
        job.cancel()
        tally.close()
        progress.close()
    print(
        f"upgraded through {savepoint.name} in {upgrade_s:.1f} s (stop, savepoint, submit, "
        f"first checkpoint); decided {tally.decided} of {count}, duplicates {tally.duplicates}; "
        f"the upgraded job decided {decided_metric:.0f}"
    )
    assert tally.decided == count and tally.duplicates == 0
    # The cluster's TaskManager reports the job's own metrics on loopback, counted since the
    # upgraded job started: it stopped the old one mid-stream, with the backlog still there.
    assert 0 < decided_metric < count

    # The state crossed the savepoint: every decision, before and after the upgrade, carries
    # the features the offline path computes over the whole stream (a card's history reset
    # at the upgrade would show in its counts and sums after it).
    decided = {}
    for message in read_topic(settings, settings.topics.decisions.name):
        record = orjson.loads(message.value())
        decided[record["txn_id"]] = record["features"]
    txns = []
    for txn in PaymentStream(config).transactions():
        txns.append(txn)
        if len(txns) == count:
            break
    offline = {t.txn_id: f for t, f in build_features(txns, settings.flink.dedupe_ttl_ms)}
    wrong = [txn_id for txn_id, features in offline.items() if decided.get(txn_id) != features]
    assert not wrong, f"{len(wrong)} decisions differ from the offline features, e.g. {wrong[:3]}"
    # Which the comparison can tell only for cards seen on both sides of the upgrade (the job
    # decides in event-time order, the order of ``txns``).
    before = count - int(decided_metric)
    both = {t.card_id for t in txns[:before]} & {t.card_id for t in txns[before:]}
    assert len(both) > 100, f"only {len(both)} cards paid before and after the upgrade"
