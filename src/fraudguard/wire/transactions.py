"""The transaction FraudGuard reads, and the dead-letter record of one it refuses.

Both are JSON objects (the decision FraudGuard writes is in :mod:`fraudguard.wire.decisions`).
:func:`parse_transaction` is the only way bytes from the ``transactions`` topic become a
:class:`Transaction`; anything it refuses raises :class:`~fraudguard.errors.InvalidTransaction`
with a reason code for the dead-letter topic.

>>> raw = (b'{"txn_id": "t1", "event_time": "2026-11-23T10:00:00Z", "card_id": "c1",'
...        b' "customer_id": "u1", "merchant_id": "m1", "terminal_id": "m1-t1", "amount": 12.5,'
...        b' "currency": "EUR", "mcc": "5411", "country": "FR", "channel": "card_present",'
...        b' "device_id": null}')
>>> txn = parse_transaction(raw, now_ms=1_795_428_060_000)
>>> txn.card_id, txn.amount, txn.ts_ms
('c1', 12.5, 1795428000000)
>>> parse_transaction(raw.replace(b'"amount": 12.5', b'"amount": -3'))
Traceback (most recent call last):
...
fraudguard.errors.InvalidTransaction: bad_amount: amount -3.0 must be positive

Every refusal is an :class:`~fraudguard.errors.InvalidTransaction` whose ``reason`` is one of
:data:`REASONS`; no input makes :func:`parse_transaction` raise anything else. When a message
breaks several rules, the first check in this order names it: ``empty``, ``oversized``,
``bad_json``, ``not_an_object``, ``missing_field``, ``unknown_field``, the ids, ``event_time``,
``amount``, ``currency``, ``mcc``, ``country``, ``channel``, ``duplicate_key``.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import orjson

from fraudguard.errors import InvalidInput, InvalidTransaction

Channel = Literal["card_present", "online"]
CHANNELS: frozenset[str] = frozenset({"card_present", "online"})

# ISO 4217 codes we accept; an unknown code is refused rather than guessed at, because
# amount features compare amounts and a wrong currency silently corrupts them.
CURRENCIES: frozenset[str] = frozenset(
    "EUR USD GBP CHF SEK NOK DKK PLN CZK HUF RON BGN JPY CNY HKD SGD AUD NZD CAD MXN BRL ARS "
    "INR ZAR TRY AED SAR ILS KRW THB MYR IDR PHP".split()
)

MAX_MESSAGE_BYTES = 4096
MAX_ID_LENGTH = 64
MAX_AMOUNT = 10_000_000.0
MAX_EVENT_TIME_LENGTH = 40
"""Longest accepted ``event_time`` text ("2026-11-23T10:00:00.123456+01:00" is 32)."""
# Used with fullmatch: "$" would also match before a trailing newline.
_ID_PATTERN = re.compile(r"[A-Za-z0-9_.:\-]+")

REASONS: dict[str, str] = {
    "empty": "the message has no value (a Kafka tombstone) or is zero bytes",
    "oversized": f"the message is over {MAX_MESSAGE_BYTES} bytes",
    "bad_json": "not UTF-8 JSON: a syntax error, invalid UTF-8, a BOM, NaN or Infinity, a number"
    " that overflows a double (1e400), nesting deeper than 1024, or trailing data",
    "not_an_object": "JSON whose top level is an array, string, number, boolean or null",
    "missing_field": "a required field is absent",
    "unknown_field": "a field that is not part of the schema",
    "wrong_type": "a field of the wrong JSON type (a string or boolean amount, a numeric id,"
    " null for a required field)",
    "bad_id": f"an id that is not 1-{MAX_ID_LENGTH} characters of [A-Za-z0-9_.:-]",
    "bad_timestamp": "event_time is not ISO-8601 with a UTC offset",
    "future_timestamp": "event_time is further ahead of the job clock than max_future_ms",
    "stale_timestamp": "event_time is older than max_age_ms",
    "bad_amount": f"amount is zero, negative or over {MAX_AMOUNT:,.0f}",
    "unknown_currency": "currency is not in CURRENCIES",
    "bad_mcc": "mcc is not four ASCII digits",
    "bad_country": "country is not two ASCII capital letters",
    "bad_channel": "channel is not one of CHANNELS",
    "duplicate_key": "a key appears twice in the object (parsers disagree on which value wins)",
    "unparseable": "an unexpected error while validating (the job's safety net: a bug, never"
    " raised by parse_transaction)",
}
"""Every reason code of the dead-letter topic, with what it means (stable: alerts use them)."""

REQUIRED_FIELDS: tuple[str, ...] = (
    "txn_id",
    "event_time",
    "card_id",
    "customer_id",
    "merchant_id",
    "terminal_id",
    "amount",
    "currency",
    "mcc",
    "country",
    "channel",
)
OPTIONAL_FIELDS: tuple[str, ...] = ("device_id",)
_KNOWN_FIELDS = frozenset(REQUIRED_FIELDS + OPTIONAL_FIELDS)
_STRING_FIELDS = len(REQUIRED_FIELDS) - 1
"""Required fields whose value is a JSON string: all but ``amount``."""
_ID_FIELDS = ("txn_id", "card_id", "customer_id", "merchant_id", "terminal_id")


@dataclass(frozen=True, slots=True)
class Transaction:
    """One card payment, as validated from the wire."""

    txn_id: str
    event_time: str
    """ISO-8601 with an offset, as sent; ``ts_ms`` is the same instant in epoch milliseconds."""
    ts_ms: int
    card_id: str
    customer_id: str
    merchant_id: str
    terminal_id: str
    amount: float
    """In major units of ``currency`` (12.5 EUR is 12.5)."""
    currency: str
    mcc: str
    """Merchant category code, four digits."""
    country: str
    """ISO 3166-1 alpha-2 country of the merchant."""
    channel: str
    device_id: str | None

    def __reduce__(self) -> tuple[type[Transaction], tuple[Any, ...]]:
        # The job pickles every transaction between its keyed steps: a plain tuple of fields
        # is several times cheaper than the default slots-dataclass protocol.
        return Transaction, (
            self.txn_id, self.event_time, self.ts_ms, self.card_id, self.customer_id,
            self.merchant_id, self.terminal_id, self.amount, self.currency, self.mcc,
            self.country, self.channel, self.device_id,
        )  # fmt: skip

    @classmethod
    def from_validated(cls, validated: bytes) -> Transaction:
        """The transaction back from its JSON as the job's validation wrote it (every field,
        ``ts_ms`` included), without validating again.

        >>> txn = Transaction("t1", "2026-11-23T10:00:00Z", 7, "c1", "u1", "m1", "m1-t1", 12.5,
        ...                   "EUR", "5411", "FR", "online", None)
        >>> Transaction.from_validated(orjson.dumps(txn)) == txn
        True
        """
        doc = orjson.loads(validated)
        # Positional: a frozen dataclass built from keywords costs twice as much, and the
        # decision step builds one per payment.
        return cls(
            doc["txn_id"], doc["event_time"], doc["ts_ms"], doc["card_id"], doc["customer_id"],
            doc["merchant_id"], doc["terminal_id"], doc["amount"], doc["currency"], doc["mcc"],
            doc["country"], doc["channel"], doc["device_id"],
        )  # fmt: skip

    def to_wire(self) -> dict[str, Any]:
        """The JSON object for the ``transactions`` topic (``ts_ms`` is derived, not sent)."""
        wire = asdict(self)
        del wire["ts_ms"]
        return wire


def format_event_time(ts_ms: int) -> str:
    """Epoch milliseconds to the wire's ISO-8601 UTC form.

    >>> format_event_time(1795428000123)
    '2026-11-23T10:00:00.123Z'
    """
    dt = datetime.fromtimestamp(ts_ms / 1000, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts_ms % 1000:03d}Z"


def parse_event_time(value: str) -> int:
    """Milliseconds since the epoch of an ISO-8601 event time with a UTC offset."""
    # fromisoformat ignores some trailing garbage (a NUL byte); only short printable ASCII is
    # worth parsing, and the text is echoed into decisions as sent.
    if len(value) > MAX_EVENT_TIME_LENGTH or not (value.isascii() and value.isprintable()):
        raise InvalidTransaction(
            "bad_timestamp",
            f"event_time {_clip(value)} is not ISO-8601"
            f" (at most {MAX_EVENT_TIME_LENGTH} printable ASCII characters)",
        )
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidTransaction("bad_timestamp", f"event_time {value!r} is not ISO-8601") from None
    if dt.tzinfo is None:
        raise InvalidTransaction("bad_timestamp", f"event_time {value!r} has no UTC offset")
    try:
        return int(dt.timestamp() * 1000)
    except (OverflowError, ValueError):
        raise InvalidTransaction("bad_timestamp", f"event_time {value!r} is out of range") from None


def parse_transaction(
    raw: bytes | None,
    now_ms: int | None = None,
    max_future_ms: int = 5 * 60_000,
    max_age_ms: int | None = 35 * 86_400_000,
) -> Transaction:
    """Validate one message from the ``transactions`` topic.

    ``now_ms`` is the reference for the time-window check (processing time in the job);
    ``None`` skips it, which replay and offline feature building use.
    """
    if type(raw) is not bytes:
        raw = _as_bytes(raw)
    if not raw:
        raise InvalidTransaction("empty", "message is empty (0 bytes)")
    if len(raw) > MAX_MESSAGE_BYTES:
        raise InvalidTransaction(
            "oversized", f"message is {len(raw)} bytes, the limit is {MAX_MESSAGE_BYTES}"
        )
    try:
        # orjson refuses invalid UTF-8, NaN/Infinity, doubles overflowing to inf and nesting
        # deeper than 1024 (without recursing in C), all as JSONDecodeError.
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidTransaction("bad_json", _json_error(raw, exc)) from None
    if type(doc) is not dict:
        raise InvalidTransaction("not_an_object", f"expected a JSON object, got {_tname(doc)}")

    missing = [f for f in REQUIRED_FIELDS if f not in doc]
    if missing:
        raise InvalidTransaction("missing_field", f"missing {', '.join(missing)}")
    if len(doc) > len(REQUIRED_FIELDS) + ("device_id" in doc):
        extra = sorted(set(doc) - _KNOWN_FIELDS)
        shown = ", ".join(_clip(k, 32) for k in extra[:5])
        more = f" and {len(extra) - 5} more" if len(extra) > 5 else ""
        raise InvalidTransaction("unknown_field", f"unexpected {shown}{more}")

    for name in _ID_FIELDS:
        _check_id(doc, name)
    device_id = doc.get("device_id")
    if device_id is not None:
        _check_id(doc, "device_id")

    event_time = doc["event_time"]
    if not isinstance(event_time, str):
        raise InvalidTransaction(
            "wrong_type", f"event_time must be a string, got {_tname(event_time)}"
        )
    ts_ms = parse_event_time(event_time)
    if now_ms is not None:
        if ts_ms > now_ms + max_future_ms:
            raise InvalidTransaction(
                "future_timestamp",
                f"event_time {event_time} is {(ts_ms - now_ms) / 1000:.0f}s ahead of the job clock",
            )
        if max_age_ms is not None and ts_ms < now_ms - max_age_ms:
            raise InvalidTransaction(
                "stale_timestamp",
                f"event_time {event_time} is older than {max_age_ms // 86_400_000} days",
            )

    amount = doc["amount"]
    if isinstance(amount, bool) or not isinstance(amount, (int, float)):
        raise InvalidTransaction("wrong_type", f"amount must be a number, got {_tname(amount)}")
    amount = float(amount)
    if not math.isfinite(amount):
        raise InvalidTransaction("bad_amount", f"amount {amount} is not finite")
    if amount <= 0:
        raise InvalidTransaction("bad_amount", f"amount {amount} must be positive")
    if amount > MAX_AMOUNT:
        raise InvalidTransaction("bad_amount", f"amount {amount} exceeds {MAX_AMOUNT:.0f}")

    currency, mcc, country, channel = doc["currency"], doc["mcc"], doc["country"], doc["channel"]
    for name, value in (
        ("currency", currency),
        ("mcc", mcc),
        ("country", country),
        ("channel", channel),
    ):
        if not isinstance(value, str):
            raise InvalidTransaction("wrong_type", f"{name} must be a string, got {_tname(value)}")
    if currency not in CURRENCIES:
        raise InvalidTransaction("unknown_currency", f"currency {_clip(currency)} is not accepted")
    # str methods instead of regexes: cheaper, and isdigit/isalpha alone would take non-ASCII.
    if not (len(mcc) == 4 and mcc.isascii() and mcc.isdigit()):
        raise InvalidTransaction("bad_mcc", f"mcc {_clip(mcc)} is not four digits")
    if not (len(country) == 2 and country.isascii() and country.isalpha() and country.isupper()):
        raise InvalidTransaction("bad_country", f"country {_clip(country)} is not ISO 3166 alpha-2")
    if channel not in CHANNELS:
        raise InvalidTransaction(
            "bad_channel", f"channel {_clip(channel)} is not one of {', '.join(sorted(CHANNELS))}"
        )

    # Last, because it needs to know every value is a scalar. Without a backslash every quote
    # delimits a string, so a message has exactly two per key and per string value unless a
    # key is repeated (orjson silently keeps the last value; other readers keep the first).
    strings = len(doc) + _STRING_FIELDS + (device_id is not None)
    if b"\\" in raw or raw.count(b'"') != 2 * strings:
        _check_duplicate_keys(raw)

    return Transaction(
        txn_id=doc["txn_id"],
        event_time=event_time,
        ts_ms=ts_ms,
        card_id=doc["card_id"],
        customer_id=doc["customer_id"],
        merchant_id=doc["merchant_id"],
        terminal_id=doc["terminal_id"],
        amount=amount,
        currency=currency,
        mcc=mcc,
        country=country,
        channel=channel,
        device_id=device_id,
    )


def _as_bytes(raw: object) -> bytes:
    # The Kafka source hands over bytes; None is a record without a value (a tombstone).
    if raw is None:
        raise InvalidTransaction("empty", "message has no value (a Kafka tombstone)")
    if isinstance(raw, bytearray | memoryview):
        return bytes(raw)
    raise InvalidTransaction("bad_json", f"expected the message as bytes, got {_tname(raw)}")


_JSON_TYPES = {
    type(None): "null",
    bool: "boolean",
    int: "number",
    float: "number",
    str: "string",
    list: "array",
    dict: "object",
}


def _json_error(raw: bytes, exc: orjson.JSONDecodeError) -> str:
    # orjson words invalid UTF-8 as "surrogates not allowed"; say where the bad byte is.
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as bad:
        return f"not valid UTF-8: byte {bad.start} is {raw[bad.start : bad.start + 1]!r}"
    return f"not valid JSON: {exc}"


def _tname(value: object) -> str:
    """The JSON name of a parsed value's type ("string", "null"), else the Python one."""
    return _JSON_TYPES.get(type(value)) or type(value).__name__


def _clip(text: str, limit: int = 24) -> str:
    """``repr`` of at most ``limit`` characters of ``text``: control characters escaped."""
    return repr(text[:limit]) + ("..." if len(text) > limit else "")


def _check_id(doc: dict[str, Any], name: str) -> None:
    value = doc[name]
    if type(value) is not str:
        raise InvalidTransaction("wrong_type", f"{name} must be a string, got {_tname(value)}")
    if not value or len(value) > MAX_ID_LENGTH or not _ID_PATTERN.fullmatch(value):
        raise InvalidTransaction(
            "bad_id",
            f"{name} {_clip(value)} ({len(value)} characters) must be 1-{MAX_ID_LENGTH}"
            " characters of [A-Za-z0-9_.:-]",
        )


def _check_duplicate_keys(raw: bytes) -> None:
    """The slow path, for messages with escapes or more strings than expected: parse again
    with the standard library, which reports every key/value pair."""
    repeated: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> None:
        seen: set[str] = set()
        for key, _value in items:
            if key in seen:
                repeated.append(key)
            seen.add(key)

    try:
        json.loads(raw, object_pairs_hook=pairs)
    except RecursionError:
        # Nesting can only hide in a value a later duplicate replaced: the top level is flat.
        raise InvalidTransaction("duplicate_key", "a repeated key hides a nested value") from None
    except ValueError as exc:
        raise InvalidTransaction("bad_json", f"not valid JSON: {exc}") from None
    if repeated:
        shown = ", ".join(_clip(k, 32) for k in repeated[:5])
        raise InvalidTransaction("duplicate_key", f"repeated key {shown}")


def dead_letter(raw: bytes | None, error: InvalidInput, received_at_ms: int) -> bytes:
    """The dead-letter record for a refused message: reason, detail and the original.

    The original bytes travel as UTF-8 text when they decode, else as base64, so an operator
    can read and re-send them; a message without a value (``None``) has ``original`` null and
    ``original_encoding`` ``"none"``.

    >>> rec = orjson.loads(dead_letter(b"{oops", InvalidTransaction("bad_json", "x"), 5))
    >>> rec["reason"], rec["original"], rec["original_encoding"]
    ('bad_json', '{oops', 'utf-8')
    """
    original: str | None
    if isinstance(raw, bytearray | memoryview):
        raw = bytes(raw)
    if not isinstance(raw, bytes):  # None, a tombstone: nothing to keep
        original, encoding = None, "none"
    else:
        try:
            original, encoding = raw.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            import base64

            original, encoding = base64.b64encode(raw).decode("ascii"), "base64"
    return orjson.dumps(
        {
            "reason": error.reason,
            "detail": error.detail,
            "original": original,
            "original_encoding": encoding,
            "received_at_ms": received_at_ms,
        }
    )
