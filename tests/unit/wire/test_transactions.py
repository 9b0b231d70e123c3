"""The wire schema: every kind of bad input is refused with its own reason."""

from __future__ import annotations

import json
import math
import random
import time

import orjson
import pytest

from fraudguard.errors import InvalidTransaction
from fraudguard.wire import transactions as schema
from fraudguard.wire.transactions import (
    MAX_MESSAGE_BYTES,
    REASONS,
    Transaction,
    dead_letter,
    parse_transaction,
)

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


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def with_first(key: str, value: bytes) -> bytes:
    """GOOD with ``"key": value`` written before its own fields: a duplicated key when ``key``
    is one of them."""
    return b'{"' + key.encode() + b'":' + value + b"," + encode()[1:]


BAD_INPUT = {
    # The message itself
    "tombstone": (None, "empty"),
    "empty": (b"", "empty"),
    "oversized": (b"{" + b" " * 5000 + b"}", "oversized"),
    "oversized_by_one": (encode(device_id="d" * 64).ljust(MAX_MESSAGE_BYTES + 1), "oversized"),
    "deep_nesting_100k": (nested(100_000), "oversized"),
    "deep_nesting_in_limit": (nested(2000), "bad_json"),
    "deep_nesting_in_a_field": (
        encode(amount=DROP)[:-1] + b',"amount":' + nested(1500) + b"}",
        "bad_json",
    ),
    # Not JSON
    "bad_json": (b"{not json", "bad_json"),
    "truncated": (encode()[:-7], "bad_json"),
    "invalid_utf8": (b"\xff\xfe\x00garbage", "bad_json"),
    "invalid_utf8_in_a_string": (encode(card_id="c1").replace(b"c1", b"c\xff"), "bad_json"),
    "utf8_bom": (b"\xef\xbb\xbf" + encode(), "bad_json"),
    "whitespace_only": (b"  \n\t ", "bad_json"),
    "trailing_data": (encode() + b" {}", "bad_json"),
    "nan_literal": (b'{"amount": NaN}', "bad_json"),
    "infinity_literal": (encode(amount=DROP)[:-1] + b',"amount":Infinity}', "bad_json"),
    "number_overflowing_double": (encode(amount=DROP)[:-1] + b',"amount":1e400}', "bad_json"),
    "lone_surrogate": (encode(card_id="c1").replace(b'"c1"', b'"\\ud800"'), "bad_json"),
    "raw_control_character": (encode(card_id="c1").replace(b'"c1"', b'"c\x011"'), "bad_json"),
    # Not an object
    "array": (b"[1, 2, 3]", "not_an_object"),
    "string": (b'"just a string"', "not_an_object"),
    "integer": (b"42", "not_an_object"),
    "float": (b"12.5", "not_an_object"),
    "true": (b"true", "not_an_object"),
    "null": (b"null", "not_an_object"),
    # Fields
    "missing_field": (encode(amount=DROP), "missing_field"),
    "empty_object": (b"{}", "missing_field"),
    "extra_field": (encode(extra_field=1), "unknown_field"),
    "extra_field_with_control_chars": (encode(**{"x\n\x00": 1}), "unknown_field"),
    "duplicate_key": (with_first("amount", b"-5"), "duplicate_key"),
    "duplicate_key_same_value": (with_first("amount", b"12.5"), "duplicate_key"),
    "duplicate_key_escaped": (with_first("\\u0061mount", b"1"), "duplicate_key"),
    "duplicate_key_hiding_nesting": (with_first("amount", nested(900)), "duplicate_key"),
    "duplicate_key_hiding_an_object": (with_first("card_id", b'{"a": {"b": 1}}'), "duplicate_key"),
    # Types
    "string_amount": (encode(amount="12.5"), "wrong_type"),
    "bool_amount": (encode(amount=True), "wrong_type"),
    "null_amount": (encode(amount=None), "wrong_type"),
    "list_amount": (encode(amount=[1]), "wrong_type"),
    "numeric_id": (encode(card_id=42), "wrong_type"),
    "object_id": (encode(txn_id={"id": 1}), "wrong_type"),
    "null_id": (encode(txn_id=None), "wrong_type"),
    "numeric_device_id": (encode(device_id=7), "wrong_type"),
    "null_event_time": (encode(event_time=None), "wrong_type"),
    "numeric_event_time": (encode(event_time=NOW), "wrong_type"),
    "null_currency": (encode(currency=None), "wrong_type"),
    "numeric_mcc": (encode(mcc=5411), "wrong_type"),
    "bool_channel": (encode(channel=False), "wrong_type"),
    # Amounts
    "negative_amount": (encode(amount=-1), "bad_amount"),
    "zero_amount": (encode(amount=0), "bad_amount"),
    "negative_zero_amount": (encode(amount=DROP)[:-1] + b',"amount":-0.0}', "bad_amount"),
    "underflow_to_zero": (encode(amount=DROP)[:-1] + b',"amount":1e-400}', "bad_amount"),
    "huge_amount": (encode(amount=1e12), "bad_amount"),
    "huge_integer_amount": (
        encode(amount=DROP)[:-1] + b',"amount":' + b"9" * 30 + b"}",
        "bad_amount",
    ),
    # Codes
    "unknown_currency": (encode(currency="XXX"), "unknown_currency"),
    "lowercase_currency": (encode(currency="eur"), "unknown_currency"),
    "short_mcc": (encode(mcc="54"), "bad_mcc"),
    "mcc_with_newline": (encode(mcc="5411\n"), "bad_mcc"),
    "mcc_with_non_ascii_digits": (encode(mcc="٥٤١١"), "bad_mcc"),
    "long_country": (encode(country="France"), "bad_country"),
    "lowercase_country": (encode(country="fr"), "bad_country"),
    "country_with_newline": (encode(country="FR\n"), "bad_country"),
    "non_ascii_country": (encode(country="ÉT"), "bad_country"),
    "unknown_channel": (encode(channel="atm"), "bad_channel"),
    # Time
    "non_iso_timestamp": (encode(event_time="yesterday"), "bad_timestamp"),
    "timestamp_without_offset": (encode(event_time="2026-11-23T10:00:00"), "bad_timestamp"),
    "date_only": (encode(event_time="2026-11-23"), "bad_timestamp"),
    "epoch_text": (encode(event_time="1795428000000"), "bad_timestamp"),
    "offset_out_of_range": (encode(event_time="2026-11-23T10:00:00+25:00"), "bad_timestamp"),
    "timestamp_with_nul": (encode(event_time="2026-11-23T10:00:00Z\x00"), "bad_timestamp"),
    "timestamp_too_long": (
        encode(event_time="2026-11-23T10:00:00" + "0" * 40 + "Z"),
        "bad_timestamp",
    ),
    "timestamp_non_ascii_digits": (encode(event_time="２０２６-11-23T10:00:00Z"), "bad_timestamp"),
    "future_timestamp": (encode(event_time="2027-01-01T00:00:00Z"), "future_timestamp"),
    "far_future_timestamp": (encode(event_time="9999-12-31T23:59:59-01:00"), "future_timestamp"),
    "stale_timestamp": (encode(event_time="2020-01-01T00:00:00Z"), "stale_timestamp"),
    "year_one": (encode(event_time="0001-01-01T00:00:00+01:00"), "stale_timestamp"),
    # Ids
    "empty_id": (encode(txn_id=""), "bad_id"),
    "over_long_id": (encode(card_id="x" * 65), "bad_id"),
    "id_with_quote_and_space": (encode(card_id="c1'; DROP TABLE"), "bad_id"),
    "id_with_trailing_newline": (encode(card_id="c1\n"), "bad_id"),
    "id_with_nul": (encode(txn_id="t\x001"), "bad_id"),
    "id_with_escape_sequence": (encode(merchant_id="m\x1b[31m"), "bad_id"),
    "id_with_non_ascii": (encode(customer_id="ü1"), "bad_id"),
    "empty_device_id": (encode(device_id=""), "bad_id"),
}


@pytest.mark.parametrize(("raw", "reason"), BAD_INPUT.values(), ids=BAD_INPUT.keys())
def test_bad_input_is_refused_with_its_reason(raw: bytes | None, reason: str) -> None:
    started = time.perf_counter()
    with pytest.raises(InvalidTransaction) as info:
        parse_transaction(raw, now_ms=NOW)
    assert time.perf_counter() - started < 0.5
    assert info.value.reason == reason, info.value.detail
    assert reason in REASONS
    detail = info.value.detail
    assert detail and len(detail) < 300 and detail.isprintable(), detail


def test_the_reason_order_picks_the_first_broken_rule() -> None:
    # A duplicate key is reported only when the values orjson kept are otherwise valid.
    with pytest.raises(InvalidTransaction, match="bad_amount"):
        parse_transaction(with_first("amount", b"1").replace(b'"amount":12.5', b'"amount":-1'))


def test_details_name_the_json_type_and_the_bad_byte() -> None:
    with pytest.raises(InvalidTransaction, match="amount must be a number, got string"):
        parse_transaction(encode(amount="12.5"))
    with pytest.raises(InvalidTransaction, match="expected a JSON object, got array"):
        parse_transaction(b"[]")
    with pytest.raises(InvalidTransaction, match=r"not valid UTF-8: byte 1 is b'\\xff'"):
        parse_transaction(b"[\xff]")


def test_deep_nesting_past_the_size_limit_neither_crashes_nor_hangs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # orjson stops at depth 1024 without recursing; the size limit normally stops it earlier.
    monkeypatch.setattr(schema, "MAX_MESSAGE_BYTES", 10_000_000)
    for raw in (nested(100_000), b"[" * 1_000_000, b'{"a":' * 100_000):
        started = time.perf_counter()
        with pytest.raises(InvalidTransaction) as info:
            parse_transaction(raw, now_ms=NOW)
        assert info.value.reason == "bad_json" and "depth" in info.value.detail
        assert time.perf_counter() - started < 0.5


def test_a_message_of_exactly_the_size_limit_is_accepted() -> None:
    raw = encode().ljust(MAX_MESSAGE_BYTES)
    assert len(raw) == MAX_MESSAGE_BYTES
    assert parse_transaction(raw, now_ms=NOW).txn_id == "t-1"


def test_bytes_like_values_are_accepted_and_other_types_refused() -> None:
    assert parse_transaction(bytearray(encode()), now_ms=NOW).txn_id == "t-1"
    assert parse_transaction(memoryview(encode()), now_ms=NOW).txn_id == "t-1"
    with pytest.raises(InvalidTransaction) as info:
        parse_transaction(encode().decode(), now_ms=NOW)  # type: ignore[arg-type]
    assert info.value.reason == "bad_json" and "str" in info.value.detail


@pytest.mark.parametrize(
    "raw",
    [
        # JSON escapes and formatting that change no value take the slow duplicate check.
        encode(card_id="c1").replace(b'"c1"', b'"c\\u0031"'),
        encode().replace(b'"card_id"', b'"card\\u005fid"'),
        orjson.dumps(GOOD, option=orjson.OPT_INDENT_2),
        json.dumps(GOOD, indent=1, separators=(" , ", " : ")).encode(),
        encode(device_id=None),
        encode(device_id=DROP),
        encode(event_time="2026-11-23T10:00:00.000+00:00"),
        encode(event_time="2026-11-23T10:00:00.123456Z"),
    ],
)
def test_equivalent_encodings_of_a_valid_transaction_are_accepted(raw: bytes) -> None:
    txn = parse_transaction(raw, now_ms=NOW + 1000)
    assert (txn.txn_id, txn.card_id, txn.amount) == ("t-1", "c1", 12.5)


def test_edge_values_that_are_fine() -> None:
    txn = parse_transaction(encode(amount=12.345678901, card_id="x" * 64), now_ms=NOW)
    assert txn.amount == 12.345678901 and len(txn.card_id) == 64
    assert parse_transaction(encode(amount=10_000_000), now_ms=NOW).amount == 10_000_000.0
    assert parse_transaction(encode(txn_id="a.b:c-d_E9"), now_ms=NOW).txn_id == "a.b:c-d_E9"


def test_random_corruption_only_ever_raises_invalid_transaction() -> None:
    rng = random.Random(20261123)
    good = encode()
    seen: set[str] = set()
    for _ in range(20_000):
        raw = bytearray(good)
        for _ in range(rng.randint(1, 4)):
            op = rng.random()
            at = rng.randrange(len(raw) + 1)
            if op < 0.4 and raw:
                raw[min(at, len(raw) - 1)] = rng.randrange(256)
            elif op < 0.7:
                raw.insert(at, rng.choice(b'{}[]",:\\0123456789.eE-+ nul\x00\xff'))
            elif op < 0.9:
                del raw[at : at + rng.randint(1, 8)]
            else:
                raw[at:at] = rng.choice([b'"amount":1,', b'"x":[', b"\\u0000", b"\xc3\xa9"])
        try:
            parse_transaction(bytes(raw), now_ms=NOW)
        except InvalidTransaction as exc:
            assert exc.reason in REASONS and exc.reason != "unparseable"
            seen.add(exc.reason)
    assert {"bad_json", "bad_id", "missing_field"} <= seen, seen


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


def test_dead_letter_of_a_tombstone_has_a_null_original() -> None:
    with pytest.raises(InvalidTransaction) as info:
        parse_transaction(None)
    rec = orjson.loads(dead_letter(None, info.value, 1))
    assert (rec["reason"], rec["original"], rec["original_encoding"]) == ("empty", None, "none")
    rec = orjson.loads(dead_letter(bytearray(b"{x"), InvalidTransaction("bad_json", "x"), 1))
    assert rec["original"] == "{x"


def test_a_validated_transaction_reads_back_without_validating_again() -> None:
    txn = parse_transaction(encode(device_id=None), NOW)
    assert Transaction.from_validated(orjson.dumps(txn)) == txn
