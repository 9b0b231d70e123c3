"""Cells of a foreign file as FraudGuard reads them: text, numbers, instants and durations.

Every failure is a ``ValueError`` whose text says what is wrong with the value; the converter
adds the row and the field.

>>> as_text(42), as_text(42.0), as_text(1.5), as_text(""), as_text(None)
('42', '42', '1.5', None, None)
>>> as_number("12.50"), as_number(3)
(12.5, 3.0)
>>> duration_ms("7d"), duration_ms("36h"), duration_ms("1.5m")
(604800000, 129600000, 90000)
>>> parse_instant("2018-04-01 00:00:31", "UTC"), parse_instant("2018-04-01T02:00:31+02:00")
(1522540831000, 1522540831000)
>>> time_ms("3", "hours_since", start_ms=1522540800000)
1522551600000
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UNIT_MS: dict[str, int] = {
    "epoch_s": 1000,
    "epoch_ms": 1,
    "seconds_since": 1000,
    "minutes_since": 60_000,
    "hours_since": 3_600_000,
    "days_since": 86_400_000,
}
"""Milliseconds per unit of each numeric time form."""
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd])")
_DURATION_MS = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


def as_text(value: Any) -> str | None:
    """A cell as text, ``None`` when it is empty. Whole floats lose their ``.0`` because ids
    in files written through pandas often become floats (``42.0`` is the id ``42``)."""
    kind = type(value)
    if value is None or kind is str:
        return value or None
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    if kind is float:
        if math.isnan(value):
            return None
        return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict | list | tuple | bytes):
        raise ValueError(f"holds {kind.__name__} {_clip(value)}, not a single value")
    return str(value)


def as_number(value: Any) -> float:
    """A cell as a number: a number, or text of one."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is a boolean, not a number")
    if isinstance(value, int | float):
        return float(value)
    text = as_text(value)
    if text is None:
        raise ValueError("is empty")
    try:
        return float(text.strip())
    except ValueError:
        raise ValueError(f"{_clip(text)} is not a number") from None


def duration_ms(text: str) -> int:
    """``7d``, ``36h``, ``90m`` or ``30s`` in milliseconds."""
    found = _DURATION.fullmatch(text.strip()) if isinstance(text, str) else None
    if found is None:
        raise ValueError(f"{text!r} is not a duration such as 7d, 36h, 90m or 30s")
    return round(float(found.group(1)) * _DURATION_MS[found.group(2)])


@cache
def zone(name: str) -> tzinfo:
    """The IANA time zone ``name`` (``UTC``, ``Europe/Brussels``)."""
    if name in ("UTC", "Etc/UTC"):
        return UTC  # the C implementation: several times faster than ZoneInfo's arithmetic
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not an IANA time zone such as UTC or Europe/Paris") from None


def parse_instant(value: Any, timezone: str | None = None) -> int:
    """Epoch milliseconds of an ISO-8601 text, a ``datetime`` or a ``date``; ``timezone``
    places one without an offset, which is refused without it rather than guessed."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    else:
        text = as_text(value)
        try:
            moment = datetime.fromisoformat(text or "")
        except ValueError:
            raise ValueError(f"{_clip(text)} is not an ISO-8601 time") from None
    if moment.tzinfo is None:
        if timezone is None:
            raise ValueError(f"{_clip(str(value))} has no UTC offset; set the mapping's timezone")
        moment = moment.replace(tzinfo=zone(timezone))
    return (moment - _EPOCH) // _MS


def time_ms(value: Any, form: str, start_ms: int = 0, timezone: str | None = None) -> int:
    """Epoch milliseconds of a time cell in one of the mapping's forms."""
    if form == "iso":
        return parse_instant(value, timezone)
    number = as_number(value)
    if not math.isfinite(number):
        raise ValueError(f"{number} is not a time")
    return start_ms + round(number * UNIT_MS[form])


def _clip(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text[:limit] + ("..." if len(text) > limit else "")
