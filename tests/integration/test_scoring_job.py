"""The scoring job on the real stack: Kafka in, PyFlink mini-cluster, Kafka out.

Counts are taken from the decisions topic with read_committed, the way a payment system reads
it, never from the job's own bookkeeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import orjson
import pytest

from fraudguard.config import Settings
from fraudguard.ops.jobrunner import JobRunner, job_jvm
from fraudguard.stack.process import cmdline
from fraudguard.streams.kafka import make_producer, read_topic
from fraudguard.streams.tally import DecisionTally
from fraudguard.wire.transactions import format_event_time

if TYPE_CHECKING:
    from tests.integration.conftest import Backlog

pytestmark = pytest.mark.integration


def java_arguments(group: int) -> list[str]:
    """The command line of the Java process in process group ``group`` (the job's JVM)."""
    jvm = job_jvm(group)
    assert jvm is not None, f"no Java process in process group {group}"
    return (cmdline(jvm) or "").split(" ")


def run_until_decided(
    settings: Settings,
    ids: list[str],
    backlog: type[Backlog],
    then: Callable[[], list[str]] | None = None,
) -> DecisionTally:
    """Runs the job until every id is decided (or 180 s), then stops it; each decided once.
    ``then`` sends more once those are decided, and returns their ids."""
    runner = JobRunner(settings)
    runner.start(detached=True, fresh=True)
    tally = DecisionTally(settings, expected=ids)
    expected = len(ids)
    try:
        runner.wait_running(timeout_s=180)
        backlog.wait_for(tally, expected, timeout_s=180)
        if then is not None:
            more = then()
            tally.add_expected(more)
            expected += len(more)
            backlog.wait_for(tally, expected, timeout_s=120)
    finally:
        runner.stop()
        tally.close()
    assert tally.decided == expected, f"missing {tally.missing()} decisions; see {runner.log_path}"
    assert tally.duplicates == 0
    return tally


def test_each_transaction_gets_one_decision_and_bad_input_goes_to_the_dlq(
    isolated_settings: Settings, backlog: type[Backlog]
) -> None:
    settings = isolated_settings
    ids = backlog.produce(settings, 3000, "a")
    producer = make_producer(settings)
    bad = [b"{not json", b'{"txn_id": 7}', b"\xff\xfe", b"[]"]
    for raw in bad:
        producer.produce(settings.topics.transactions.name, raw, key=b"card1")
    # A payment system retrying: the same transaction sent again must not be decided twice.
    retry = {"txn_id": ids[10]}
    for msg in read_topic(settings, settings.topics.transactions.name, max_messages=len(ids)):
        if orjson.loads(msg.value())["txn_id"] == retry["txn_id"]:
            _, stamped = msg.timestamp()
            producer.produce(
                settings.topics.transactions.name, msg.value(), key=msg.key(), timestamp=stamped
            )
    producer.flush(30)

    # Out of order, sent once the rest is decided, so behind the watermark: a card's payment
    # stamped a minute before its newest, and a new card's first payment a minute before its
    # merchant's newest. Both are decided at once, and marked late.
    late = {"a-late-card": ("card5", "m9"), "a-late-merchant": ("card-new", "m7")}

    def send_late() -> list[str]:
        for txn_id, (card, merchant) in late.items():
            stamped = int(time.time() * 1000) - 60_000
            doc = {"txn_id": txn_id, "event_time": format_event_time(stamped),
                   "card_id": card, "customer_id": "cust-late", "merchant_id": merchant,
                   "terminal_id": f"{merchant}-t1", "amount": 12.5, "currency": "EUR",
                   "mcc": "5411", "country": "FR", "channel": "online",
                   "device_id": None}  # fmt: skip
            producer.produce(
                settings.topics.transactions.name, orjson.dumps(doc), key=card, timestamp=stamped
            )
        producer.flush(30)
        return list(late)

    tally = run_until_decided(settings, ids, backlog, then=send_late)
    ids += list(late)
    assert sum(tally.by_decision.values()) == len(ids)
    assert tally.unkeyed == 0  # every decision is keyed by its txn_id
    decisions = [orjson.loads(m.value()) for m in read_topic(settings, tally.topic)]
    assert {d["txn_id"] for d in decisions if d["late"]} == set(late)

    dead = [orjson.loads(m.value()) for m in read_topic(settings, settings.topics.dlq.name)]
    assert sorted(d["reason"] for d in dead) == sorted(
        ["bad_json", "bad_json", "missing_field", "not_an_object"]
    )
    assert all(d["detail"] and "original" in d for d in dead)


def test_a_killed_job_resumes_from_its_checkpoint_without_loss_or_duplicates(
    isolated_settings: Settings, backlog: type[Backlog]
) -> None:
    settings = isolated_settings
    ids = backlog.produce(settings, 30_000, "k")
    runner = JobRunner(settings)
    tally = DecisionTally(settings, expected=ids, isolation="read_uncommitted")
    runner.start(detached=True, fresh=True)
    try:
        runner.wait_running(timeout_s=120)
        jvm = java_arguments(runner.pid() or 0)
        assert "-XX:+UseParallelGC" in settings.flink.jvm_options
        assert set(settings.flink.jvm_options) <= set(jvm), f"the job's JVM runs with {jvm}"
        # Let it get part-way, then crash it: SIGKILL to the driver and the Flink JVM, while
        # hundreds of its decisions are written and not yet committed (a kill just after a
        # commit, with none, would leave nothing to compare below).
        so_far = DecisionTally(settings, expected=ids)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            tally.poll(0.05)
            so_far.poll(0.05)
            if tally.decided >= 3000 and tally.decided - so_far.decided >= 300:
                break
        killed_after, committed_before = tally.decided, so_far.decided
        runner.kill_hard()
        so_far.close()
        assert runner.pid() is None
        runner.start(detached=True)
        restored = (settings.job_dir / "restored_from").read_text()
        assert "chk-" in restored, "the restart did not resume from a checkpoint"
        runner.wait_running(timeout_s=180)
        committed = DecisionTally(settings, expected=ids)
        backlog.wait_for(committed, len(ids), timeout_s=240)
    finally:
        runner.stop()
        tally.close()
    committed.close()
    assert committed.decided == len(ids), f"lost {committed.missing()}; see {runner.log_path}"
    assert committed.duplicates == 0 and committed.unkeyed == 0

    # The fast answer (docs/operations.md): a payment system reading uncommitted takes the
    # first decision of each txn_id.
    print(
        f"killed after {killed_after} of {len(ids)} uncommitted decisions, {committed_before} "
        "of them committed"
    )
    backlog.assert_redone_identically(settings, tally.topic)


def test_decisions_go_on_while_the_online_store_is_unreachable(
    isolated_settings: Settings, backlog: type[Backlog]
) -> None:
    # Nothing listens on port 1: every flush of the online store fails; no decision may wait
    # for it or be lost.
    settings = isolated_settings.model_copy(
        update={"redis": isolated_settings.redis.model_copy(update={"port": 1})}
    )
    ids = backlog.produce(settings, 3000, "r")
    run_until_decided(settings, ids, backlog)
    # The Java writer logs through Flink's own log (the JVM's, beside the job's).
    flink_logs = JobRunner(settings).flink_log_dir.glob("*.log")
    assert any("online store flush failed" in log.read_text() for log in flink_logs)
