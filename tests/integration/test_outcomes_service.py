"""The outcomes service on the real Kafka: a generated stream's ground truth (sent by the
generator itself) and decisions for its payments; the service killed with SIGKILL three times
while it works (once while decisions are still arriving), restarted each time; then the labels
counted against the file path's.

The decisions are not the scoring job's: a seeded rule decides each payment (fraud more often
reviewed or blocked, a share of would-be blocks released as explored approvals), so that every
kind of outcome occurs often (the job on generated data reviews and blocks well under 1%), and
they are written as the job writes them: ``DecisionRecord`` JSON keyed by transaction id,
committed in Kafka transactions. What the service does with a decision does not depend on
who made it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fraudguard.config import OutcomesServiceSettings, OutcomesSettings, Settings
from fraudguard.decision.exploration import draw
from fraudguard.generator import GeneratorConfig, PaymentStream, produce_to_kafka
from fraudguard.outcomes import BankLabel, DecisionFacts, write_bank_labels
from fraudguard.outcomes.files import DECISION_COLUMNS
from fraudguard.outcomes.service import status_path
from fraudguard.stack.process import tail
from fraudguard.streams.kafka import make_producer, read_topic
from fraudguard.wire.decisions import DecisionRecord
from fraudguard.wire.transactions import format_event_time, parse_event_time

pytestmark = pytest.mark.integration

OUTCOMES = {
    "REVIEW_CAPACITY_PER_DAY": "20",
    "CHARGEBACK_MEDIAN_DAYS": "2",
    "CHARGEBACK_MIN_DAYS": "0.5",
    "CHARGEBACK_MAX_DAYS": "6",
    "SERVICE__ROUND_RECORDS": "300",
    "SERVICE__ROUND_S": "0.2",
    "SERVICE__REVIEW_ORDER_WINDOW_S": "0",
}
"""Chargebacks within the stream's days, a binding review capacity, small rounds (many
transactions to be killed in), reviews ordered as soon as the clock passes them."""
BAD_RECORDS = (b"{not json", b'{"txn_id": "x", "decision": "maybe"}')


def outcomes_settings() -> OutcomesSettings:
    fields = {k.lower(): v for k, v in OUTCOMES.items() if "__" not in k}
    service = {k.split("__")[1].lower(): v for k, v in OUTCOMES.items() if "__" in k}
    return OutcomesSettings.model_validate(
        {**fields, "service": OutcomesServiceSettings.model_validate(service)}
    )


def decide(txn_id: str, fraud: bool) -> tuple[str, bool, float]:
    """``(decision, explored, propensity)`` by a seeded rule."""
    u = draw(11, txn_id)
    approve, review = (0.45, 0.75) if fraud else (0.95, 0.985)
    if u < approve:
        return "approve", False, 1.0
    if u < review:
        return "review", False, 0.95
    if draw(12, txn_id) < 0.25:  # a would-be block released by exploration
        return "approve", True, 0.25
    return "block", False, 0.75


def taken(status: dict[str, Any]) -> int:
    """Decisions the service has taken in, as its status says."""
    return sum(v for k, v in status["counts"].items() if k.startswith("decisions_"))


def by_report(label: dict[str, Any]) -> tuple[str, str]:
    return label["reported_at"], label["txn_id"]


def environment(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env["FRAUDGUARD_HOME"] = str(settings.home)
    for field in type(settings.topics).model_fields:
        spec = getattr(settings.topics, field)
        env[f"FRAUDGUARD_TOPICS__{field.upper()}__NAME"] = spec.name
        env[f"FRAUDGUARD_TOPICS__{field.upper()}__PARTITIONS"] = str(spec.partitions)
    env.update({f"FRAUDGUARD_OUTCOMES__{k}": v for k, v in OUTCOMES.items()})
    return env


class Service:
    """``python -m fraudguard outcomes run`` as an operator starts it."""

    def __init__(self, settings: Settings, log: Path) -> None:
        self.settings = settings
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, *args: str) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "fraudguard", "outcomes", "run", *args],
                env=environment(self.settings), stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip

    def status(self) -> dict[str, Any]:
        try:
            status: dict[str, Any] = orjson.loads(status_path(self.settings).read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return {}
        if self.process is None or status.get("pid") != self.process.pid:
            return {}
        return status

    def kill_once(self, done: Any, timeout_s: float = 120.0) -> dict[str, Any]:
        """SIGKILL as soon as ``done(status)`` holds; the status seen then."""
        assert self.process is not None
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            status = self.status()
            if status and done(status):
                self.process.send_signal(signal.SIGKILL)
                self.process.wait(30)
                return status
            assert self.process.poll() is None, tail(self.log)
            time.sleep(0.05)
        raise AssertionError(f"the service never got there:\n{tail(self.log)}")

    def wait(self, timeout_s: float = 180.0) -> int:
        assert self.process is not None
        return self.process.wait(timeout_s)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(30)


def test_killed_three_times_the_service_gives_the_file_path_s_labels_once(
    isolated_settings: Settings, tmp_path: Path
) -> None:
    settings = isolated_settings
    now_ms = int(time.time() * 1000)
    prefix = f"o{uuid.uuid4().hex[:6]}-"
    config = GeneratorConfig(seed=17, cards=1_000, merchants=100, days=8, fraud_rate=0.03,
                             txn_id_prefix=prefix).ending_at(now_ms)  # fmt: skip
    stream = PaymentStream(config)
    started = time.monotonic()
    sent = produce_to_kafka(settings, stream)  # transactions, and the truth to ground_truth
    assert sent.failed == 0 and sent.stopped == "end"
    truth = [lab for batch in stream.batches() for lab in batch.labels]
    frauds = {lab.txn_id for lab in truth if lab.label == "fraud"}
    facts = []
    for batch in stream.batches():
        for txn_id, card_id, ts_ms in zip(batch.txn_ids, batch.card_id, batch.ts_ms, strict=True):
            decision, explored, propensity = decide(txn_id, txn_id in frauds)
            facts.append(DecisionFacts(txn_id, card_id, decision, explored, propensity,
                                       int(ts_ms), 10.0))  # fmt: skip
    # A block on each partition at the stream's end, so the clock passes every review.
    partitions = settings.topics.decisions.partitions
    end = [DecisionFacts(f"{config.txn_id_prefix}end{p}", "c", "block", False, 0.75,
                         config.end_ms, 1.0) for p in range(partitions)]  # fmt: skip
    facts += end
    assert len(facts) > 10_000

    # The file path's labels for the same decisions and truth.
    decisions_file, truth_file = tmp_path / "decisions.parquet", tmp_path / "truth.jsonl"
    pq.write_table(
        pa.table({c: [getattr(f, c) for f in facts] for c in DECISION_COLUMNS}), decisions_file
    )
    truth_file.write_bytes(b"".join(orjson.dumps(lab.to_dict()) + b"\n" for lab in truth))
    expected_file = tmp_path / "bank.labels.jsonl"
    write_bank_labels(decisions_file, truth_file, expected_file, outcomes_settings())
    expected = [orjson.loads(line) for line in expected_file.read_bytes().splitlines()]

    producer = make_producer(settings, **{"transactional.id": f"test-{uuid.uuid4().hex}"})
    producer.init_transactions(30)

    def send(chunk: list[DecisionFacts], bad: bytes | None = None) -> None:
        producer.begin_transaction()
        for f in chunk:
            record = DecisionRecord(f.txn_id, f.card_id, format_event_time(f.ts_ms), f.decision,
                                    0.5, "m", "th", now_ms, {}, explored=f.explored,
                                    propensity=f.propensity, amount=f.amount)  # fmt: skip
            partition = end.index(f) if f in end else -1
            producer.produce(settings.topics.decisions.name, record.to_json(),
                             key=f.txn_id, partition=partition)  # fmt: skip
        if bad is not None:
            producer.produce(settings.topics.decisions.name, bad, key="bad")
        producer.commit_transaction(30)

    def trickle(chunk: list[DecisionFacts], parts: int = 40) -> None:
        size = len(chunk) // parts + 1
        for at in range(0, len(chunk), size):
            send(chunk[at : at + size])
            time.sleep(0.1)

    third = len(facts) // 3
    chunks = [facts[:third], facts[third : 2 * third], facts[2 * third :]]
    service = Service(settings, tmp_path / "outcomes.log")
    inputs_s = time.monotonic() - started
    try:
        send(chunks[0], BAD_RECORDS[0])
        service.start("--from-beginning")
        first = service.kill_once(lambda s: taken(s) >= third // 2)
        service.start()
        # The second part arrives while the service works, in 40 transactions: the clock
        # moves on every partition together and labels come out round after round.
        sender = threading.Thread(target=trickle, args=(chunks[1],))
        sender.start()
        second = service.kill_once(lambda s: s["labels"] >= first["labels"] + 20)
        killed_while_sending = sender.is_alive()
        sender.join()
        send([], BAD_RECORDS[1])
        service.start()
        send(chunks[2])
        third_run = service.kill_once(lambda s: taken(s) >= 2 * third + third // 3)
        service.start("--until-idle", "5")
        assert service.wait() == 0, tail(service.log)
    finally:
        service.stop()
    kills = (first, second, third_run)
    service_s = time.monotonic() - started - inputs_s
    final = orjson.loads(status_path(settings).read_bytes())

    labels = [orjson.loads(m.value()) for m in read_topic(settings, settings.topics.labels.name)]
    newest: dict[str, bytes | None] = {}
    for message in read_topic(settings, settings.topics.outcomes_state.name):
        newest[message.key().decode()] = message.value()
    pending = [BankLabel(**orjson.loads(v)).to_dict() for k, v in newest.items()
               if k.startswith("p/") and v is not None]  # fmt: skip

    clock = final["clock_ms"]
    assert clock == config.end_ms
    due = [x for x in expected if parse_event_time(x["reported_at"]) <= clock]
    ids = [x["txn_id"] for x in labels]
    duplicates = len(ids) - len(set(ids))
    given = {x["txn_id"] for x in labels} | {x["txn_id"] for x in pending}
    lost = {x["txn_id"] for x in expected} - given
    print(
        f"\noutcomes kill test: {len(facts)} decisions, {len(frauds)} frauds, expected "
        f"{len(expected)} labels ({len(due)} due by the stream's end); killed after "
        f"{[taken(k) for k in kills]} decisions taken in and {[k['labels'] for k in kills]} "
        f"labels committed (the second while decisions were still arriving: "
        f"{killed_while_sending}); labels on the topic "
        f"{len(labels)}, pending {len(pending)}, duplicates {duplicates}, lost {len(lost)}; "
        f"counts {final['counts']}; inputs {inputs_s:.0f} s, service {service_s:.0f} s"
    )
    assert duplicates == 0 and not lost
    assert sorted(labels, key=by_report) == sorted(due, key=by_report)
    assert sorted(pending, key=by_report) == sorted(
        [x for x in expected if x not in due], key=by_report
    )
    assert {x["source"] for x in labels} == {"chargeback", "investigation"}

    blocked = {f.txn_id for f in facts if f.decision == "block"}
    explored_frauds = {f.txn_id for f in facts if f.explored and f.txn_id in frauds}
    assert blocked & frauds and not blocked & given  # a blocked payment never yields a label
    assert explored_frauds and explored_frauds <= given  # an explored one is an approval

    counts = final["counts"]
    assert counts["bad_decisions"] == len(BAD_RECORDS)
    assert taken(final) == len(facts)
    assert counts["truth_matched"] == len(frauds) and counts.get("truth_unmatched", 0) == 0
    assert counts.get("no_truth", 0) == 0 and counts["reviews_over_capacity"] > 0
    assert counts["labels_chargeback"] + counts["labels_investigation"] == len(labels)
