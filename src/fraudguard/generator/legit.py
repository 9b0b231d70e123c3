"""Everyday legitimate spending, one chunk of simulated time at a time.

Each card pays a Poisson number of times in proportion to its rate and the local daily and
weekly cycle; most purchases go to its favourite shops and web shops. Cards occasionally travel:
while abroad they pay at shops there, and on the days they fly out or back they make no
card-present payment for a while, so legitimate data never shows impossible travel.

>>> from fraudguard.generator.config import GeneratorConfig
>>> from fraudguard.generator.population import build_population
>>> rng = np.random.default_rng(3)
>>> pop = build_population(GeneratorConfig(cards=500, merchants=100), rng)
>>> day = LegitTraffic(pop, rng).chunk(0, DAY_MS)
>>> 600 < len(day) < 1400, bool(day.online.mean() < 0.5), bool((day.ts < DAY_MS).all())
(True, True, True)
"""

from __future__ import annotations

import numpy as np

from fraudguard.generator import catalog, geography
from fraudguard.generator.calendar import DAY_MS, MINUTE_MS, intensity, sample_times
from fraudguard.generator.events import Events
from fraudguard.generator.population import (
    FAVOURITE_SHOPS,
    FAVOURITE_WEB,
    Population,
    new_device_ids,
)

TRIPS_PER_DAY = 1 / 150
"""About two or three trips a year per card."""
FAR_TRIP_SHARE = 0.2
NEAR_TRANSIT_MS = 14 * 3_600_000
"""No card-present payment this long after a trip within the region starts or ends."""
SECOND_DEVICE_SHARE = 0.25
ONE_OFF_DEVICE_SHARE = 0.01
"""Legitimate purchases from a device never seen again (a borrowed laptop, a new phone)."""
MAX_AMOUNT_EUR = 6_000.0
_SLOT_P = 1 / np.arange(1, FAVOURITE_SHOPS + 1)
_SLOT_P = _SLOT_P / _SLOT_P.sum()
_WEB_SLOT_P = 1 / np.arange(1, FAVOURITE_WEB + 1)
_WEB_SLOT_P = _WEB_SLOT_P / _WEB_SLOT_P.sum()


def amounts_eur(
    rng: np.random.Generator, pop: Population, card: np.ndarray, merchant: np.ndarray
) -> np.ndarray:
    """Purchase amounts: log-normal around the category median, shifted by the card's level."""
    mcc = pop.merchant_mcc[merchant]
    sigma = 0.5 * (catalog.SIGMA[mcc] + pop.card_sigma[card])
    z = rng.standard_normal(len(card))
    amount = np.exp(catalog.LOG_MEDIAN[mcc] + pop.card_level[card] + sigma * z)
    return np.clip(amount, 0.5, MAX_AMOUNT_EUR)


class LegitTraffic:
    """Stateful source of legitimate events; call :meth:`chunk` with consecutive periods."""

    def __init__(self, pop: Population, rng: np.random.Generator) -> None:
        self.pop = pop
        self.rng = rng
        self.trip_country = np.full(pop.cards, -1)
        self.trip_end_ms = np.zeros(pop.cards, dtype=np.int64)
        self._shops = {c: pop.shops_in(c) for c in range(len(geography.COUNTRIES))}
        self._webs = pop.web_shops()
        self._near = np.flatnonzero(geography.HOME)
        self._far = np.flatnonzero(~geography.HOME)

    def on_trip(self) -> np.ndarray:
        """Mask of the cards currently abroad."""
        return self.trip_country >= 0

    def _move(self, start_ms: int, fraction: float) -> tuple[np.ndarray, np.ndarray]:
        """Start and end trips; returns the cards' location and how long each is in transit."""
        rng, pop = self.rng, self.pop
        back = self.on_trip() & (self.trip_end_ms <= start_ms)
        transit_ms = np.zeros(pop.cards, dtype=np.int64)
        far_back = back & ~geography.HOME[np.maximum(self.trip_country, 0)]
        transit_ms[back] = NEAR_TRANSIT_MS
        transit_ms[far_back] = DAY_MS
        self.trip_country[back] = -1

        leave = ~self.on_trip() & ~back & (rng.random(pop.cards) < TRIPS_PER_DAY * fraction)
        n = int(leave.sum())
        far = rng.random(n) < FAR_TRIP_SHARE
        near = rng.choice(self._near, n, p=geography.HOME_WEIGHTS[self._near])
        home = pop.card_home[leave]
        near = np.where(
            near == home,
            self._near[(np.searchsorted(self._near, near) + 1) % len(self._near)],
            near,
        )
        dest = np.where(far, rng.choice(self._far, n), near)
        self.trip_country[leave] = dest
        self.trip_end_ms[leave] = start_ms + rng.integers(2, 11, n) * DAY_MS
        transit_ms[leave] = np.where(far, DAY_MS, NEAR_TRANSIT_MS)
        return np.where(self.on_trip(), self.trip_country, pop.card_home), transit_ms

    def chunk(self, start_ms: int, end_ms: int) -> Events:
        """Legitimate events in ``[start_ms, end_ms)`` (at most a day), in no particular order."""
        rng, pop = self.rng, self.pop
        minutes = -(-(end_ms - start_ms) // MINUTE_MS)
        location, transit_ms = self._move(start_ms, (end_ms - start_ms) / DAY_MS)
        tz = geography.UTC_OFFSET_MIN[location]

        cards_parts, ts_parts = [], []
        for offset in np.unique(tz).tolist():
            grid = intensity(start_ms, minutes, offset)
            cards = np.flatnonzero(tz == offset)
            counts = rng.poisson(pop.card_rate[cards] * grid.sum() / 1440)
            cards = np.repeat(cards, counts)
            cards_parts.append(cards)
            ts_parts.append(sample_times(rng, grid, start_ms, end_ms, len(cards)))
        card = np.concatenate(cards_parts)
        ts = np.concatenate(ts_parts)
        n = len(card)

        away = location[card] != pop.card_home[card]
        online = rng.random(n) < pop.card_online[card] * np.where(away, 0.5, 1.0)
        loyal = rng.random(n) < pop.card_loyalty[card]
        merchant = np.empty(n, dtype=np.int64)
        web_fav = pop.card_fav_web[card, rng.choice(FAVOURITE_WEB, n, p=_WEB_SLOT_P)]
        shop_fav = pop.card_fav_shop[card, rng.choice(FAVOURITE_SHOPS, n, p=_SLOT_P)]
        merchant[:] = np.where(online, web_fav, shop_fav)
        web_other = online & ~loyal
        merchant[web_other] = pop.pick(rng, self._webs, int(web_other.sum()))
        shop_other = ~online & (~loyal | away)
        where = location[card]
        for country in np.unique(where[shop_other]).tolist():
            mask = shop_other & (where == country)
            merchant[mask] = pop.pick(rng, self._shops[country], int(mask.sum()))

        # No card-present payment while the holder is on a plane.
        keep = online | (ts >= start_ms + transit_ms[card])
        card, ts, online, merchant = card[keep], ts[keep], online[keep], merchant[keep]
        n = len(card)

        device = np.empty(n, dtype=object)
        slot = (rng.random(n) < SECOND_DEVICE_SHARE).astype(np.int64)
        device[online] = pop.card_devices[card[online], slot[online]]
        one_off = online & (rng.random(n) < ONE_OFF_DEVICE_SHARE)
        device[one_off] = new_device_ids(rng, int(one_off.sum()))
        return Events.build(
            ts=ts,
            card=card,
            merchant=merchant,
            terminal=pop.terminal_of(rng, merchant),
            amount_eur=amounts_eur(rng, pop, card, merchant),
            online=online,
            device=device,
        )
