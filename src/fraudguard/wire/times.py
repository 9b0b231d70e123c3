"""Times people write (on the command line, in a scenario): a day or an ISO-8601 time, in UTC."""

from __future__ import annotations

from datetime import UTC, datetime

from fraudguard.errors import ConfigError
from fraudguard.wire.transactions import parse_event_time


def to_ms(value: str | None, option: str) -> int | None:
    """Epoch milliseconds of a date (``2026-01-05``, midnight UTC) or an ISO-8601 time.

    >>> to_ms("2026-01-05", "--from"), to_ms("2026-01-05T01:00:00Z", "--to")
    (1767571200000, 1767574800000)
    """
    if value is None:
        return None
    try:
        if len(value) == 10:
            return int(datetime.fromisoformat(value).replace(tzinfo=UTC).timestamp() * 1000)
        return parse_event_time(value)
    except Exception:  # noqa: BLE001 - any unreadable value gets the same message
        raise ConfigError(f"{option}: {value!r} is not a date (YYYY-MM-DD) or an ISO-8601 time "
                          "with an offset") from None  # fmt: skip
