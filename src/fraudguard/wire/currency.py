"""Fixed reference rates to euro, so amount features compare like with like.

Amount features (sums, means, spikes against a card's history) are computed in euro: a card
used in Poland and in Japan would otherwise add zloty to yen. The rates are fixed reference
values, not live quotes: features must be the same in the stream, in training and in replay,
which a rate fetched on the day would break. A bank replaces this table with its own
reference rates by publishing a new feature version.

>>> to_eur(160.0, "JPY")
1.0
>>> sorted(set(EUR_RATES) ^ CURRENCIES)
[]
"""

from __future__ import annotations

from fraudguard.wire.transactions import CURRENCIES

# Units of each currency per euro.
# fmt: off
EUR_RATES: dict[str, float] = {
    "EUR": 1.0, "GBP": 0.85, "PLN": 4.3, "SEK": 11.3, "DKK": 7.46, "CHF": 0.95, "CZK": 25.0,
    "USD": 1.08, "CAD": 1.48, "MXN": 19.0, "BRL": 5.9, "TRY": 36.0, "AED": 3.97, "INR": 90.0,
    "THB": 38.0, "SGD": 1.45, "CNY": 7.8, "PHP": 62.0, "JPY": 160.0, "AUD": 1.65, "ZAR": 20.0,
    "NOK": 11.5, "HUF": 395.0, "RON": 4.97, "BGN": 1.96, "HKD": 8.4, "NZD": 1.8, "ARS": 1000.0,
    "SAR": 4.05, "ILS": 4.0, "KRW": 1450.0, "MYR": 5.0, "IDR": 17000.0,
}
# fmt: on
RATES_VERSION = "ref-2026-01"

# Every currency the schema accepts needs a rate, or its amount features could not be computed.
assert set(EUR_RATES) == CURRENCIES, sorted(set(EUR_RATES) ^ CURRENCIES)


def to_eur(amount: float, currency: str) -> float:
    """``amount`` of ``currency`` in euro, rounded to the cent."""
    return round(amount / EUR_RATES[currency], 2)
