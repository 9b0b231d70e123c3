"""Who pays where: cards and their customers, devices, merchants and terminals.

Every card has its own habits: how often it pays, how much (a log-normal around the category's
typical amount, shifted by the card's spending level), how often online, and a handful of
favourite shops in its home country and favourite web shops. Arrays are indexed by position;
ids are only turned into strings when a transaction is written.

>>> from fraudguard.generator.config import DriftConfig, GeneratorConfig
>>> pop = build_population(GeneratorConfig(cards=200, merchants=100), np.random.default_rng(1))
>>> pop.card_ids[0], pop.merchant_ids[0], pop.terminal_ids[0]
('c000000', 'm0000', 'm0000-t1')
>>> bool((pop.merchant_country[pop.card_fav_shop] == pop.card_home[:, None]).all())
True
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from fraudguard.generator import catalog, geography
from fraudguard.generator.config import DriftConfig, GeneratorConfig

FAVOURITE_SHOPS = 8
FAVOURITE_WEB = 4
ONLINE_MERCHANT_SHARE = 0.2
FOREIGN_SHOP_SHARE = 0.12
# Where big web shops are registered, and how many of them.
_WEB_HUBS = np.array([geography.index_of(c) for c in ("US", "GB", "IE", "NL", "LU", "CN")])
_WEB_HUB_P = np.array([0.35, 0.2, 0.2, 0.1, 0.08, 0.07])


def _ids(prefix: str, n: int, width: int) -> np.ndarray:
    width = max(width, len(str(max(n - 1, 0))))
    return np.array([f"{prefix}{i:0{width}d}" for i in range(n)], dtype=object)


def new_device_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    """Fresh device ids; random so an id says nothing about who uses it."""
    return np.array([f"d{x:010x}" for x in rng.integers(0, 16**10, n).tolist()], dtype=object)


def _weighted(
    rng: np.random.Generator, pool: np.ndarray, cdf: np.ndarray, shape: int | tuple[int, int]
) -> np.ndarray:
    return pool[np.searchsorted(cdf, rng.random(shape) * cdf[-1], side="right")]


@dataclass(frozen=True, eq=False)
class Population:
    """Cards, customers, devices, merchants and terminals as parallel arrays."""

    card_ids: np.ndarray
    customer_ids: np.ndarray
    """Per card: the customer holding it (some customers hold two cards)."""
    card_home: np.ndarray
    """Country index (into :data:`~fraudguard.generator.geography.COUNTRIES`) of the holder."""
    card_rate: np.ndarray
    """Mean transactions per day."""
    card_level: np.ndarray
    """Log-scale shift of the card's amounts against the category's median."""
    card_sigma: np.ndarray
    card_online: np.ndarray
    """Probability that a purchase is made online."""
    card_loyalty: np.ndarray
    """Probability that a purchase goes to a favourite merchant."""
    card_fav_shop: np.ndarray
    """(cards, FAVOURITE_SHOPS) merchant indices in the home country."""
    card_fav_web: np.ndarray
    """(cards, FAVOURITE_WEB) online merchant indices."""
    card_devices: np.ndarray
    """(cards, 2) device ids of the customer (the same one twice when they own one)."""
    merchant_ids: np.ndarray
    merchant_country: np.ndarray
    merchant_mcc: np.ndarray
    """Index into :data:`~fraudguard.generator.catalog.MCCS`."""
    merchant_online: np.ndarray
    merchant_popularity: np.ndarray
    merchant_first_terminal: np.ndarray
    merchant_terminals: np.ndarray
    terminal_ids: np.ndarray
    terminal_merchant: np.ndarray
    merchant_ring: np.ndarray
    """Per merchant: whether a drift's fraud ring opened it (no legitimate traffic, and no
    other scenario's pick)."""

    @property
    def cards(self) -> int:
        return len(self.card_ids)

    def shops_in(self, country: int) -> np.ndarray:
        """Indices of the merchants with terminals in ``country``."""
        return np.flatnonzero(
            ~self.merchant_online & (self.merchant_country == country) & ~self.merchant_ring
        )

    def web_shops(self, mccs: tuple[str, ...] = ()) -> np.ndarray:
        """Indices of online merchants, optionally only those of some categories."""
        mask = self.merchant_online & ~self.merchant_ring
        if mccs:
            mask &= np.isin(self.merchant_mcc, [catalog.index_of(m) for m in mccs])
        return np.flatnonzero(mask)

    def ring_shops(self) -> np.ndarray:
        """Indices of the merchants a drift's fraud ring opened."""
        return np.flatnonzero(self.merchant_ring)

    def pick(self, rng: np.random.Generator, merchants: np.ndarray, n: int) -> np.ndarray:
        """``n`` merchants from ``merchants``, busier ones more often."""
        return _weighted(rng, merchants, np.cumsum(self.merchant_popularity[merchants]), n)

    def terminal_of(self, rng: np.random.Generator, merchants: np.ndarray) -> np.ndarray:
        """A random terminal of each merchant (global terminal index)."""
        offset = (rng.random(len(merchants)) * self.merchant_terminals[merchants]).astype(np.int64)
        return self.merchant_first_terminal[merchants] + offset


def build_population(config: GeneratorConfig, rng: np.random.Generator) -> Population:
    """Draw the cards and merchants of ``config``."""
    n_web = round(config.merchants * ONLINE_MERCHANT_SHARE)
    n_shop = config.merchants - n_web
    n_countries = len(geography.COUNTRIES)
    home = np.flatnonzero(geography.HOME)
    abroad = np.flatnonzero(~geography.HOME)

    # Shops: one in every country first (so travel and fraud abroad always find one), then
    # mostly in the home region, weighted like the cardholders.
    shop_country = np.where(
        rng.random(n_shop) < FOREIGN_SHOP_SHARE,
        rng.choice(abroad, n_shop),
        rng.choice(len(geography.COUNTRIES), n_shop, p=geography.HOME_WEIGHTS),
    )
    shop_country[:n_countries] = np.arange(n_countries)
    web_country = np.where(
        rng.random(n_web) < 0.55,
        rng.choice(_WEB_HUBS, n_web, p=_WEB_HUB_P),
        rng.choice(n_countries, n_web, p=geography.HOME_WEIGHTS),
    )
    shop_mcc = rng.choice(len(catalog.MCCS), n_shop, p=catalog.PHYSICAL_WEIGHTS)
    web_mcc = rng.choice(len(catalog.MCCS), n_web, p=catalog.ONLINE_WEIGHTS)
    # Fraud needs somewhere to test cards and cash them out online.
    must = [catalog.index_of(m) for m in catalog.TESTING + catalog.HIGH_TICKET]
    web_mcc[: len(must)] = must

    country = np.concatenate([shop_country, web_country])
    mcc = np.concatenate([shop_mcc, web_mcc])
    online = np.arange(config.merchants) >= n_shop
    popularity = rng.lognormal(0.0, 1.0, config.merchants)
    terminals = np.where(
        online,
        rng.integers(1, 3, config.merchants),
        rng.choice(np.arange(1, 6), config.merchants, p=[0.35, 0.25, 0.2, 0.12, 0.08]),
    )
    first_terminal = np.concatenate([[0], np.cumsum(terminals)[:-1]])
    merchant_ids = _ids("m", config.merchants, 4)
    terminal_merchant = np.repeat(np.arange(config.merchants), terminals)
    terminal_no = np.arange(len(terminal_merchant)) - first_terminal[terminal_merchant] + 1
    terminal_ids = np.array(
        [
            f"{merchant_ids[m]}-t{k}"
            for m, k in zip(terminal_merchant.tolist(), terminal_no.tolist(), strict=True)
        ],
        dtype=object,
    )

    # Customers: about one in seven holds a second card, which shares their devices.
    n_cards = config.cards
    n_customers = max(1, round(n_cards / 1.15))
    holder = np.concatenate(
        [np.arange(n_customers), rng.integers(0, n_customers, n_cards - n_customers)]
    )
    holder = holder[rng.permutation(n_cards)]
    customer_home = rng.choice(n_countries, n_customers, p=geography.HOME_WEIGHTS)
    devices = new_device_ids(rng, 2 * n_customers).reshape(n_customers, 2)
    one_device = rng.random(n_customers) < 0.55
    devices[one_device, 1] = devices[one_device, 0]

    card_home = customer_home[holder]
    sigma_rate = 0.6
    rate = rng.lognormal(np.log(config.daily_txns) - sigma_rate**2 / 2, sigma_rate, n_cards)
    beta_b = 2.0 * (1 - config.online_share) / config.online_share
    fav_shop = np.empty((n_cards, FAVOURITE_SHOPS), dtype=np.int64)
    for c in home:
        cards_here = np.flatnonzero(card_home == c)
        shops = np.flatnonzero(~online & (country == c))
        fav_shop[cards_here] = _weighted(
            rng, shops, np.cumsum(popularity[shops]), (len(cards_here), FAVOURITE_SHOPS)
        )
    webs = np.flatnonzero(online)
    fav_web = _weighted(rng, webs, np.cumsum(popularity[webs]), (n_cards, FAVOURITE_WEB))

    pop = Population(
        card_ids=_ids("c", n_cards, 6),
        customer_ids=_ids("u", n_customers, 6)[holder],
        card_home=card_home,
        card_rate=np.clip(rate, 0.05, 40.0),
        card_level=rng.normal(0.0, 0.35, n_cards),
        card_sigma=rng.uniform(0.35, 0.8, n_cards),
        card_online=rng.beta(2.0, beta_b, n_cards),
        card_loyalty=rng.uniform(0.55, 0.9, n_cards),
        card_fav_shop=fav_shop,
        card_fav_web=fav_web,
        card_devices=devices[holder],
        merchant_ids=merchant_ids,
        merchant_country=country,
        merchant_mcc=mcc,
        merchant_online=online,
        merchant_popularity=popularity,
        merchant_first_terminal=first_terminal,
        merchant_terminals=terminals,
        terminal_ids=terminal_ids,
        terminal_merchant=terminal_merchant,
        merchant_ring=np.zeros(config.merchants, dtype=bool),
    )
    return pop if config.drift is None else with_ring(pop, config.drift)


def with_ring(pop: Population, drift: DriftConfig) -> Population:
    """``pop`` with the drift's web shops appended (one terminal each), drawing nothing at
    random: every other merchant, card and draw stays as it was."""
    n, first = drift.merchants, len(pop.merchant_ids)
    width = len(pop.merchant_ids[0]) - 1
    ids = np.array([f"m{first + i:0{width}d}" for i in range(n)], dtype=object)
    fill = np.full(n, 1)
    return replace(
        pop,
        merchant_ids=np.concatenate([pop.merchant_ids, ids]),
        merchant_country=np.concatenate(
            [pop.merchant_country, fill * geography.index_of(drift.country)]
        ),
        merchant_mcc=np.concatenate([pop.merchant_mcc, fill * catalog.index_of(drift.mcc)]),
        merchant_online=np.concatenate([pop.merchant_online, np.ones(n, dtype=bool)]),
        merchant_popularity=np.concatenate([pop.merchant_popularity, np.ones(n)]),
        merchant_first_terminal=np.concatenate(
            [pop.merchant_first_terminal, len(pop.terminal_ids) + np.arange(n)]
        ),
        merchant_terminals=np.concatenate([pop.merchant_terminals, fill]),
        terminal_ids=np.concatenate([pop.terminal_ids, [f"{m}-t1" for m in ids]]),
        terminal_merchant=np.concatenate([pop.terminal_merchant, first + np.arange(n)]),
        merchant_ring=np.concatenate([pop.merchant_ring, np.ones(n, dtype=bool)]),
    )
