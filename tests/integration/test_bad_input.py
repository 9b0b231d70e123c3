"""Hostile input on the real stack: malformed messages interleaved with valid transactions.

Every valid transaction still gets exactly one decision, every bad message lands in the DLQ
exactly once with its reason code and its original bytes, and the job, allowed no restart,
is still running at the end. Both topics are read ``read_committed``, the way a downstream
consumer reads them.
"""

from __future__ import annotations

import base64
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable

import orjson
import pytest
from confluent_kafka import KafkaError

from fraudguard.config import Settings
from fraudguard.generator import GeneratorConfig, PaymentStream
from fraudguard.ops.jobrunner import JobRunner
from fraudguard.streams.kafka import assigned_consumer, make_producer, read_topic
from fraudguard.streams.tally import DecisionTally
from fraudguard.wire.transactions import MAX_MESSAGE_BYTES, REASONS, format_event_time

pytestmark = pytest.mark.integration

VALID_COUNT = 2000
COPIES = 3
"""Messages per kind of bad input, each with its own bytes where the kind allows it."""
DAY_MS = 86_400_000


def bad_kinds(template: dict[str, object], now_ms: int) -> dict[str, tuple[str, Callable]]:
    """Kind -> (reason, make(n) -> the n-th message of that kind). ``template`` is a valid
    transaction; ``n`` makes each copy's bytes differ where the kind allows it."""

    def doc(n: int, **changes: object) -> dict[str, object]:
        return {**template, "txn_id": f"{template['txn_id']}-bad{n}", **changes}

    def with_(**changes: object) -> Callable[[int], bytes]:
        return lambda n: orjson.dumps(doc(n, **changes))

    def without(field: str) -> Callable[[int], bytes]:
        return lambda n: orjson.dumps({k: v for k, v in doc(n).items() if k != field})

    def raw_amount(text: bytes) -> Callable[[int], bytes]:
        return lambda n: with_(amount=7)(n).replace(b'"amount":7', b'"amount":' + text)

    def duplicate(n: int) -> bytes:
        # orjson would keep the second, valid amount; other readers keep the first.
        return b'{"amount":-5,' + orjson.dumps(doc(n))[1:]

    def nested(n: int) -> bytes:
        return b" " * n + b"[" * 2000 + b"]" * 2000

    return {
        "empty": ("empty", lambda n: b""),
        "oversized": ("oversized", lambda n: with_(pad=" " * MAX_MESSAGE_BYTES)(n)),
        "not_json": ("bad_json", lambda n: b"{not json " + str(n).encode()),
        "invalid_utf8": ("bad_json", lambda n: b'{"txn_id": "\xff\xfe' + bytes([n]) + b'"}'),
        "nan_literal": ("bad_json", raw_amount(b"NaN")),
        "number_overflow": ("bad_json", raw_amount(b"1e400")),
        "deep_nesting": ("bad_json", nested),
        "json_array": ("not_an_object", lambda n: orjson.dumps([doc(n)])),
        "json_null": ("not_an_object", lambda n: b" " * n + b"null"),
        "json_number": ("not_an_object", lambda n: str(n + 12.5).encode()),
        "missing_field": ("missing_field", without("amount")),
        "extra_field": ("unknown_field", with_(note="hello")),
        "string_amount": ("wrong_type", with_(amount="12.50")),
        "bool_amount": ("wrong_type", with_(amount=True)),
        "numeric_id": ("wrong_type", with_(card_id=123456)),
        "null_field": ("wrong_type", with_(currency=None)),
        "negative_amount": ("bad_amount", with_(amount=-12.5)),
        "zero_amount": ("bad_amount", with_(amount=0)),
        "unknown_currency": ("unknown_currency", with_(currency="XYZ")),
        "bad_mcc": ("bad_mcc", with_(mcc="54a1")),
        "bad_country": ("bad_country", with_(country="FR\n")),
        "bad_channel": ("bad_channel", with_(channel="atm")),
        "non_iso_timestamp": ("bad_timestamp", with_(event_time="23/11/2026 10:00")),
        "timestamp_without_offset": ("bad_timestamp", with_(event_time="2026-11-23T10:00:00")),
        "future_timestamp": (
            "future_timestamp",
            with_(event_time=format_event_time(now_ms + DAY_MS)),
        ),
        "stale_timestamp": (
            "stale_timestamp",
            with_(event_time=format_event_time(now_ms - 60 * DAY_MS)),
        ),
        "control_chars_in_id": ("bad_id", lambda n: with_(card_id=f"c{n}\n\x00\x1b[2J")(n)),
        "over_long_id": ("bad_id", lambda n: with_(merchant_id="m" * (65 + n))(n)),
        "duplicate_key": ("duplicate_key", duplicate),
    }


def valid_transactions(now_ms: int, prefix: str) -> list[tuple[bytes, bytes, int]]:
    """(key, value, event time) of generated transactions from the last day, keyed by card."""
    config = GeneratorConfig(seed=29, cards=1500, days=1, txn_id_prefix=prefix)
    out: list[tuple[bytes, bytes, int]] = []
    for batch in PaymentStream(config.ending_at(now_ms)).batches():
        keys = [card.encode() for card in batch.card_id]
        out += zip(keys, batch.encoded(), batch.ts_ms.tolist(), strict=True)
        if len(out) >= VALID_COUNT:
            break
    assert len(out) >= VALID_COUNT, "the generator made fewer transactions than the test needs"
    return out[:VALID_COUNT]


class DlqReader:
    """Follows the DLQ from the beginning and keeps every record (read_committed)."""

    def __init__(self, settings: Settings) -> None:
        self.topic = settings.topics.dlq.name
        self.records: list[dict] = []
        no_eof: dict = {"enable.partition.eof": False}
        self._consumer = assigned_consumer(settings, self.topic, **no_eof)

    def poll(self, timeout_s: float = 0.5) -> None:
        for msg in self._consumer.consume(num_messages=10_000, timeout=timeout_s):
            err = msg.error()
            if err is not None and err.code() != KafkaError._PARTITION_EOF:
                raise AssertionError(f"reading {self.topic}: {err}")
            if err is None:
                self.records.append(orjson.loads(msg.value()))

    def close(self) -> None:
        self._consumer.close()


def original_bytes(record: dict) -> bytes | None:
    encoding = record["original_encoding"]
    if encoding == "utf-8":
        return record["original"].encode("utf-8")
    if encoding == "base64":
        return base64.b64decode(record["original"])
    assert encoding == "none" and record["original"] is None, record
    return None


def test_hostile_input_goes_to_the_dlq_and_valid_transactions_still_get_one_decision(
    isolated_settings: Settings,
) -> None:
    # No restarts allowed: a message that crashed an operator even once fails the job, instead
    # of a silent failover and replay from the last checkpoint.
    settings = isolated_settings.model_copy(
        update={"flink": isolated_settings.flink.model_copy(update={"restart_attempts": 0})}
    )
    now_ms = int(time.time() * 1000)
    valid = valid_transactions(now_ms, prefix=f"h{uuid.uuid4().hex[:6]}-")
    template = orjson.loads(valid[0][1])
    kinds = bad_kinds(template, now_ms)
    assert len(kinds) >= 15 and {reason for reason, _ in kinds.values()} <= set(REASONS)

    bad: list[tuple[bytes | None, str]] = [
        (make(n), reason) for reason, make in kinds.values() for n in range(COPIES)
    ]
    # Tombstones (a key, no value): Flink's value-only deserializers would drop them without a
    # trace; the job's framing deserializer hands them over, and they go to the DLQ too.
    tombstones = COPIES
    bad += [(None, "empty")] * tombstones
    rng = random.Random(7)
    messages: list[tuple[bytes, bytes | None, int]] = list(valid)
    for value, _reason in bad:
        at = rng.randrange(len(messages) + 1)
        # Record timestamp = event time (the job orders partitions by it); a bad message
        # carries the time it would have arrived at, its neighbour's.
        ts = messages[max(at - 1, 0)][2]
        messages.insert(at, (rng.choice(valid)[0], value, ts))

    producer = make_producer(settings)
    for key, value, ts in messages:
        producer.produce(settings.topics.transactions.name, value, key=key, timestamp=ts)
    assert producer.flush(30) == 0
    topic = settings.topics.transactions.name
    on_topic = list(read_topic(settings, topic, max_messages=len(messages)))
    assert len(on_topic) == len(messages)
    assert sum(msg.value() is None for msg in on_topic) == tombstones

    ids = [orjson.loads(value)["txn_id"] for _key, value, _ts in valid]
    expected_dead = Counter((value, reason) for value, reason in bad)
    runner = JobRunner(settings)
    tally = DecisionTally(settings, expected=ids)
    dlq = DlqReader(settings)
    runner.start(detached=True, fresh=True)
    try:
        runner.wait_running(timeout_s=180)
        deadline = time.monotonic() + 75
        while time.monotonic() < deadline and (
            tally.decided < len(ids) or len(dlq.records) < len(bad)
        ):
            tally.poll(0.25)
            dlq.poll(0.25)
            assert runner.pid() is not None, f"the job exited; see {runner.log_path}"
        # A little longer: a duplicate would arrive after the last first-record.
        settle = time.monotonic() + 3
        while time.monotonic() < settle:
            tally.poll(0.25)
            dlq.poll(0.25)
        status = runner.status()
    finally:
        runner.stop()
        tally.close()
        dlq.close()

    assert status.running, f"the job is not running at the end; see {runner.log_path}"
    assert tally.decided == len(ids), f"missing {tally.missing()} decisions; see {runner.log_path}"
    assert tally.duplicates == 0 and tally.foreign == 0

    dead = Counter((original_bytes(rec), rec["reason"]) for rec in dlq.records)
    assert dead == expected_dead, {
        "missing": list((expected_dead - dead).items())[:5],
        "unexpected": list((dead - expected_dead).items())[:5],
    }
    assert all(rec["detail"] and rec["received_at_ms"] >= now_ms for rec in dlq.records)
