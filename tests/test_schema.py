"""The wire schema: every kind of bad input is refused with its own reason."""

from __future__ import annotations

import math

import orjson
import pytest

from fraudguard.errors import InvalidTransaction
from fraudguard.schema import DecisionRecord, Transaction, dead_letter, parse_transaction

NOW = 1_795_428_000_000
GOOD = {
    "txn_id": "t-1",
    "event_time": "2026-11-23T10:00:00.000Z",
    "card_id": "c1",
    "customer_id": "u1",
    "merchant_id": "m1",
    "terminal_id": "m1-t1",
    "amount": 12.5,
    "currency": "EUR",
    "mcc": "5411",
    "country": "FR",
    "channel": "online",
    "device_id": "d1",
}


def encode(**changes: object) -> bytes:
    doc = {**GOOD, **changes}
    return orjson.dumps({k: v for k, v in doc.items() if v is not DROP})


DROP = object()


def test_valid_transaction_round_trips_through_the_wire() -> None:
    txn = parse_transaction(encode(), now_ms=NOW)
    assert txn == parse_transaction(orjson.dumps(txn.to_wire()), now_ms=NOW)
    assert txn.ts_ms == NOW and txn.device_id == "d1"


def test_device_id_may_be_absent_or_null() -> None:
    assert parse_transaction(encode(device_id=DROP), now_ms=NOW).device_id is None
    assert parse_transaction(encode(device_id=None), now_ms=NOW).device_id is None


def test_offsets_other_than_utc_are_converted() -> None:
    txn = parse_transaction(encode(event_time="2026-11-23T11:00:00+01:00"), now_ms=NOW)
    assert txn.ts_ms == NOW


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"{not json", "bad_json"),
        (b"\xff\xfe\x00garbage", "bad_json"),
        (b"[1, 2, 3]", "not_an_object"),
        (b'"just a string"', "not_an_object"),
        (encode(amount=DROP), "missing_field"),
        (encode(extra_field=1), "unknown_field"),
        (encode(amount="12.5"), "wrong_type"),
        (encode(amount=True), "wrong_type"),
        (encode(card_id=42), "wrong_type"),
        (encode(amount=-1), "bad_amount"),
        (encode(amount=0), "bad_amount"),
        (b'{"amount": NaN}', "bad_json"),
        (encode(amount=1e12), "bad_amount"),
        (encode(currency="XXX"), "unknown_currency"),
        (encode(event_time="yesterday"), "bad_timestamp"),
        (encode(event_time="2026-11-23T10:00:00"), "bad_timestamp"),
        (encode(event_time="2027-01-01T00:00:00Z"), "future_timestamp"),
        (encode(event_time="2020-01-01T00:00:00Z"), "stale_timestamp"),
        (encode(txn_id=""), "bad_id"),
        (encode(card_id="x" * 65), "bad_id"),
        (encode(card_id="c1'; DROP TABLE"), "bad_id"),
        (encode(mcc="54"), "bad_mcc"),
        (encode(country="France"), "bad_country"),
        (encode(channel="atm"), "bad_channel"),
        (b"{" + b" " * 5000 + b"}", "oversized"),
    ],
)
def test_bad_input_is_refused_with_its_reason(raw: bytes, reason: str) -> None:
    with pytest.raises(InvalidTransaction) as info:
        parse_transaction(raw, now_ms=NOW)
    assert info.value.reason == reason


def test_time_checks_are_skipped_without_a_clock() -> None:
    assert parse_transaction(encode(event_time="2020-01-01T00:00:00Z"), now_ms=None).ts_ms > 0


def test_non_finite_amounts_are_refused_even_if_a_parser_let_them_through() -> None:
    # orjson refuses NaN/Infinity literals; a float overflowing to inf must be caught too.
    with pytest.raises(InvalidTransaction) as info:
        parse_transaction(encode(amount=DROP).replace(b"}", b',"amount":1e400}'), now_ms=NOW)
    assert info.value.reason in {"bad_amount", "bad_json"}
    assert not math.isfinite(float("1e400"))


def test_dead_letter_keeps_undecodable_bytes_as_base64() -> None:
    raw = b"\xff\x00\x01"
    rec = orjson.loads(dead_letter(raw, InvalidTransaction("bad_json", "x"), 1))
    assert rec["original_encoding"] == "base64"
    import base64

    assert base64.b64decode(rec["original"]) == raw


def test_decision_record_is_json_with_every_version_field() -> None:
    rec = DecisionRecord(
        "t", "c", "2026-11-23T10:00:00Z", "approve", 0.1, "m1", "th1", 5, {"f": 1.0}
    )
    doc = orjson.loads(rec.to_json())
    assert {
        "model_version",
        "threshold_version",
        "reranker_version",
        "propensity",
        "features",
    } <= set(doc)
    assert isinstance(Transaction.__slots__, tuple)
