"""Countries the synthetic world knows: currency, time zone, location and how many people live
there (as cardholders and merchants), plus fixed exchange rates.

Cardholders live in a European home region; merchants are mostly there too, with some abroad so
that travel, cross-border e-commerce and impossible travel have somewhere to happen.

>>> COUNTRIES[index_of("FR")].currency
'EUR'
>>> round(distance_km(index_of("FR"), index_of("DE")))
769
>>> to_local(np.array([10.0]), np.array([index_of("JP")])).tolist()
[1600.0]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fraudguard.wire.currency import EUR_RATES
from fraudguard.wire.transactions import CURRENCIES


@dataclass(frozen=True, slots=True)
class Country:
    code: str
    """ISO 3166-1 alpha-2."""
    currency: str
    utc_offset_min: int
    """Standard-time offset; daylight saving is ignored (one hour does not change the shape)."""
    lat: float
    lon: float
    home_weight: float
    """Share of cardholders living here; 0 for countries outside the home region."""


COUNTRIES: tuple[Country, ...] = (
    Country("DE", "EUR", 60, 51.1, 10.4, 20),
    Country("FR", "EUR", 60, 46.6, 2.4, 18),
    Country("ES", "EUR", 60, 40.4, -3.7, 10),
    Country("IT", "EUR", 60, 42.8, 12.5, 10),
    Country("GB", "GBP", 0, 54.0, -2.0, 9),
    Country("NL", "EUR", 60, 52.1, 5.3, 7),
    Country("PL", "PLN", 60, 52.1, 19.4, 6),
    Country("BE", "EUR", 60, 50.6, 4.6, 4),
    Country("PT", "EUR", 0, 39.5, -8.0, 3),
    Country("AT", "EUR", 60, 47.6, 14.1, 3),
    Country("SE", "SEK", 60, 62.0, 15.0, 3),
    Country("IE", "EUR", 0, 53.2, -8.2, 2),
    Country("DK", "DKK", 60, 56.0, 10.0, 2),
    Country("CH", "CHF", 60, 46.8, 8.2, 2),
    Country("CZ", "CZK", 60, 49.8, 15.5, 1),
    Country("LU", "EUR", 60, 49.8, 6.1, 0.5),
    Country("US", "USD", -300, 39.8, -98.6, 0),
    Country("CA", "CAD", -300, 56.0, -106.0, 0),
    Country("MX", "MXN", -360, 23.6, -102.5, 0),
    Country("BR", "BRL", -180, -14.2, -51.9, 0),
    Country("TR", "TRY", 180, 39.0, 35.0, 0),
    Country("AE", "AED", 240, 24.0, 54.0, 0),
    Country("IN", "INR", 330, 21.0, 78.0, 0),
    Country("TH", "THB", 420, 15.9, 100.9, 0),
    Country("SG", "SGD", 480, 1.35, 103.8, 0),
    Country("CN", "CNY", 480, 35.9, 104.2, 0),
    Country("PH", "PHP", 480, 12.9, 121.8, 0),
    Country("JP", "JPY", 540, 36.2, 138.3, 0),
    Country("AU", "AUD", 600, -25.0, 133.0, 0),
    Country("ZA", "ZAR", 120, -30.6, 22.9, 0),
)

# Fixed rates (fraudguard.wire.currency): a synthetic stream must not depend on the day it is made.
ZERO_DECIMAL: frozenset[str] = frozenset({"JPY"})
"""Currencies without minor units: their amounts are whole numbers."""

assert all(c.currency in CURRENCIES and c.currency in EUR_RATES for c in COUNTRIES)

CODES: tuple[str, ...] = tuple(c.code for c in COUNTRIES)
HOME: np.ndarray = np.array([c.home_weight > 0 for c in COUNTRIES])
"""Mask of the home-region countries."""
HOME_WEIGHTS: np.ndarray = np.array([c.home_weight for c in COUNTRIES]) / sum(
    c.home_weight for c in COUNTRIES
)
UTC_OFFSET_MIN: np.ndarray = np.array([c.utc_offset_min for c in COUNTRIES], dtype=np.int64)
_RATE = np.array([EUR_RATES[c.currency] for c in COUNTRIES])
_WHOLE = np.array([c.currency in ZERO_DECIMAL for c in COUNTRIES])
_LAT = np.radians([c.lat for c in COUNTRIES])
_LON = np.radians([c.lon for c in COUNTRIES])


def index_of(code: str) -> int:
    """Position of a country code in :data:`COUNTRIES`."""
    return CODES.index(code)


def distance_km(a: int | np.ndarray, b: int | np.ndarray) -> np.ndarray:
    """Great-circle distance between country centroids (haversine), vectorised."""
    dlat = _LAT[b] - _LAT[a]
    dlon = _LON[b] - _LON[a]
    h = np.sin(dlat / 2) ** 2 + np.cos(_LAT[a]) * np.cos(_LAT[b]) * np.sin(dlon / 2) ** 2
    return 2 * 6371.0 * np.arcsin(np.sqrt(h))


def to_local(amount_eur: np.ndarray, country: np.ndarray) -> np.ndarray:
    """Euro amounts in the currency of each country, rounded to its minor unit."""
    local = amount_eur * _RATE[country]
    return np.where(_WHOLE[country], np.maximum(np.round(local), 1.0), np.round(local, 2))
