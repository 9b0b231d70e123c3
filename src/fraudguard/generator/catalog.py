"""Merchant categories: what each sells, how much a purchase typically costs and whether it is
a shop with terminals, a web shop, or both.

>>> MCCS[index_of("5411")].median_eur
32.0
>>> bool(PHYSICAL_WEIGHTS.sum() > 0 and ONLINE_WEIGHTS.sum() > 0)
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class Category:
    mcc: str
    name: str
    median_eur: float
    """Median purchase in euros."""
    sigma: float
    """Log-scale spread of purchase amounts."""
    physical: float
    """Relative number of shops with terminals in this category."""
    online: float
    """Relative number of online merchants in this category."""


MCCS: tuple[Category, ...] = (
    Category("5411", "grocery", 32.0, 0.7, 20, 2),
    Category("5812", "restaurant", 30.0, 0.6, 12, 0),
    Category("5814", "fast food", 10.0, 0.5, 10, 1),
    Category("5541", "fuel", 55.0, 0.4, 8, 0),
    Category("5912", "pharmacy", 18.0, 0.7, 5, 1),
    Category("5311", "department store", 60.0, 0.8, 5, 3),
    Category("5651", "clothing", 55.0, 0.7, 6, 5),
    Category("5732", "electronics", 160.0, 0.9, 3, 4),
    Category("5944", "jewellery", 220.0, 0.9, 1, 1),
    Category("5999", "miscellaneous retail", 35.0, 0.9, 5, 6),
    Category("4121", "taxi and ride hailing", 22.0, 0.5, 4, 3),
    Category("4111", "public transport", 6.0, 0.5, 4, 1),
    Category("7011", "hotel", 160.0, 0.6, 2, 3),
    Category("4511", "airline", 280.0, 0.6, 0.5, 3),
    Category("5942", "books", 22.0, 0.6, 1, 2),
    Category("7832", "cinema", 18.0, 0.4, 2, 1),
    Category("5818", "digital goods", 9.0, 0.8, 0, 8),
    Category("4899", "streaming and subscriptions", 14.0, 0.4, 0, 4),
    Category("5969", "direct marketing", 45.0, 0.9, 0, 4),
    Category("8398", "charity", 25.0, 0.8, 0, 1),
)

CODES: tuple[str, ...] = tuple(c.mcc for c in MCCS)
LOG_MEDIAN: np.ndarray = np.log([c.median_eur for c in MCCS])
SIGMA: np.ndarray = np.array([c.sigma for c in MCCS])
PHYSICAL_WEIGHTS: np.ndarray = np.array([c.physical for c in MCCS]) / sum(c.physical for c in MCCS)
ONLINE_WEIGHTS: np.ndarray = np.array([c.online for c in MCCS]) / sum(c.online for c in MCCS)

HIGH_TICKET: tuple[str, ...] = ("5732", "5944", "5311", "5999")
"""Where stolen cards are cashed out: goods that are easy to resell."""
TESTING: tuple[str, ...] = ("5818", "8398", "4899", "5999")
"""Where card numbers are tested: tiny amounts nobody looks at."""


def index_of(mcc: str) -> int:
    """Position of a merchant category code in :data:`MCCS`."""
    return CODES.index(mcc)
