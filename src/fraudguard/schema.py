"""Wire formats: the transaction FraudGuard reads and the decision it writes.

Both are JSON objects. :func:`parse_transaction` is the only way bytes from the
``transactions`` topic become a :class:`Transaction`; anything it refuses raises
:class:`~fraudguard.errors.InvalidTransaction` with a reason code for the dead-letter topic.

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
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import orjson

from fraudguard.errors import InvalidTransaction

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
_ID_PATTERN = re.compile(r"^[A-Za-z0-9_.:\-]+$")
_MCC_PATTERN = re.compile(r"^[0-9]{4}$")
_COUNTRY_PATTERN = re.compile(r"^[A-Z]{2}$")

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


def _parse_time(value: str) -> int:
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidTransaction("bad_timestamp", f"event_time {value!r} is not ISO-8601") from None
    if dt.tzinfo is None:
        raise InvalidTransaction("bad_timestamp", f"event_time {value!r} has no UTC offset")
    return int(dt.timestamp() * 1000)


def parse_transaction(
    raw: bytes,
    now_ms: int | None = None,
    max_future_ms: int = 5 * 60_000,
    max_age_ms: int | None = 35 * 86_400_000,
) -> Transaction:
    """Validate one message from the ``transactions`` topic.

    ``now_ms`` is the reference for the time-window check (processing time in the job);
    ``None`` skips it, which replay and offline feature building use.
    """
    if len(raw) > MAX_MESSAGE_BYTES:
        raise InvalidTransaction(
            "oversized", f"message is {len(raw)} bytes, the limit is {MAX_MESSAGE_BYTES}"
        )
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidTransaction("bad_json", f"not valid UTF-8 JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise InvalidTransaction(
            "not_an_object", f"expected a JSON object, got {type(doc).__name__}"
        )

    missing = [f for f in REQUIRED_FIELDS if f not in doc]
    if missing:
        raise InvalidTransaction("missing_field", f"missing {', '.join(missing)}")
    extra = sorted(set(doc) - _KNOWN_FIELDS)
    if extra:
        raise InvalidTransaction("unknown_field", f"unexpected {', '.join(extra)}")

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
    ts_ms = _parse_time(event_time)
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
        raise InvalidTransaction("unknown_currency", f"currency {currency[:16]!r} is not accepted")
    if not _MCC_PATTERN.match(mcc):
        raise InvalidTransaction("bad_mcc", f"mcc {mcc[:16]!r} is not four digits")
    if not _COUNTRY_PATTERN.match(country):
        raise InvalidTransaction("bad_country", f"country {country[:16]!r} is not ISO 3166 alpha-2")
    if channel not in CHANNELS:
        raise InvalidTransaction(
            "bad_channel", f"channel {channel[:24]!r} is not one of {', '.join(sorted(CHANNELS))}"
        )

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


def _tname(value: object) -> str:
    return "null" if value is None else type(value).__name__


def _check_id(doc: dict[str, Any], name: str) -> None:
    value = doc[name]
    if not isinstance(value, str):
        raise InvalidTransaction("wrong_type", f"{name} must be a string, got {_tname(value)}")
    if not value or len(value) > MAX_ID_LENGTH or not _ID_PATTERN.match(value):
        raise InvalidTransaction(
            "bad_id", f"{name} must be 1-{MAX_ID_LENGTH} characters of [A-Za-z0-9_.:-]"
        )


Decision = Literal["approve", "review", "block"]


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    """One answer on the ``decisions`` topic: what was decided and everything that made it."""

    txn_id: str
    card_id: str
    event_time: str
    decision: str
    score: float
    model_version: str
    threshold_version: str
    decided_at_ms: int
    features: dict[str, float]
    feature_version: str = "none"
    reranker_version: str = "none"
    tier: str = "default"
    explored: bool = False
    propensity: float = 1.0
    """Probability that this decision was the one taken: 1.0 unless exploration could release it."""
    degraded: bool = False
    """True when the rule-based fallback scored the transaction instead of the model."""

    def to_json(self) -> bytes:
        # orjson serialises dataclasses natively, several times faster than asdict + dumps.
        return orjson.dumps(self)


def dead_letter(raw: bytes, error: InvalidTransaction, received_at_ms: int) -> bytes:
    """The ``transactions.dlq`` record for a refused message: reason, detail and the original.

    The original bytes travel as UTF-8 text when they decode, else as base64, so an operator
    can read and re-send them.

    >>> rec = orjson.loads(dead_letter(b"{oops", InvalidTransaction("bad_json", "x"), 5))
    >>> rec["reason"], rec["original"], rec["original_encoding"]
    ('bad_json', '{oops', 'utf-8')
    """
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
