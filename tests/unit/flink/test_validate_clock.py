"""The validation step's two clocks: the wall clock refuses history older than 35 days, the
event clock (a replay's) accepts it and refuses only what is stale against the newest event
time it has met."""

from __future__ import annotations

import orjson

from fraudguard.flink.batches import pack_batch, unpack_batch
from fraudguard.flink.functions import DEAD_LETTERS, ValidateBatch

DAY_MS = 86_400_000


def txn(i: int, when: str) -> bytes:
    return b"\x01" + orjson.dumps({
        "txn_id": f"t{i}", "event_time": when, "card_id": "c1", "customer_id": "u1",
        "merchant_id": "m1", "terminal_id": "m1-t1", "amount": 10.0, "currency": "EUR",
        "mcc": "5411", "country": "FR", "channel": "online", "device_id": None,
    })  # fmt: skip


def run(step: ValidateBatch, *records: bytes) -> tuple[list[str], list[str]]:
    valid, refused = [], []
    for out in step.process_element(pack_batch(list(records)), None):
        if isinstance(out, tuple) and out[0] == DEAD_LETTERS:
            refused.append(orjson.loads(out[1])["reason"])
        else:
            valid += [orjson.loads(v)["txn_id"] for v in unpack_batch(out)]
    return valid, refused


HISTORY = [txn(1, "2018-04-01T00:00:00Z"), txn(2, "2018-06-01T00:00:00Z"),
           txn(3, "2018-04-20T00:00:00Z")]  # fmt: skip


def test_the_wall_clock_refuses_history() -> None:
    valid, refused = run(ValidateBatch(5 * 60_000, 35 * DAY_MS), *HISTORY)
    assert valid == [] and refused == ["stale_timestamp"] * 3


def test_the_event_clock_follows_the_replay_and_refuses_what_is_stale_against_it() -> None:
    step = ValidateBatch(5 * 60_000, 35 * DAY_MS, clock="event")
    valid, refused = run(step, *HISTORY)
    # t3 is 42 days before t2, the newest event met: stale on the replay's clock
    assert valid == ["t1", "t2"] and refused == ["stale_timestamp"]
    valid, refused = run(step, txn(4, "2030-01-01T00:00:00Z"))  # nothing is ahead of it
    assert valid == ["t4"] and refused == []
