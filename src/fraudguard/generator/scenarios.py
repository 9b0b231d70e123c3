"""The four fraud scenarios, each a function building the events of one incident.

* ``card_testing``: a stolen card number is tried with many tiny amounts at different web shops
  within minutes, by a bot on one device; sometimes a large purchase follows once it works.
* ``compromised_terminal``: a skimmer on a shop's terminal copies every card used there for
  weeks; days later the copies are spent elsewhere, at shops at home or abroad, or online.
* ``account_takeover``: someone logs into the customer's account from a new device and buys
  expensive goods online, far above the card's usual amounts.
* ``impossible_travel``: minutes after the real card paid at home, a clone pays at a terminal in
  a country thousands of kilometres away.

The skimmers of ``compromised_terminal`` keep state across days and live in
:mod:`~fraudguard.generator.skimming`. Scenario functions receive a :class:`Context` (the
fraud planner) and the incident start, and return ``None`` when no suitable victim exists in
this chunk of time.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from fraudguard.generator import catalog, geography
from fraudguard.generator.calendar import MINUTE_MS
from fraudguard.generator.config import DRIFT_SCENARIOS, SCENARIOS
from fraudguard.generator.events import Events
from fraudguard.generator.legit import MAX_AMOUNT_EUR, amounts_eur
from fraudguard.generator.population import Population

MIN_TRAVEL_KM = 3_000.0
"""Impossible travel jumps at least this far, in at most 150 minutes (over 1,200 km/h)."""
TYPICAL_EUR = 45.0
"""About the median purchase of a card with an average spending level."""


class Context(Protocol):
    rng: np.random.Generator
    pop: Population
    legit: Events
    """Legitimate events of the current chunk."""
    on_trip: np.ndarray

    def victim(self, t0: int, candidates: np.ndarray | None = None) -> int | None: ...

    def fraud_device(self) -> str: ...


def code(name: str) -> int:
    """The ``scenario`` column value of a scenario name (drift patterns after the four)."""
    return 1 + (*SCENARIOS, *DRIFT_SCENARIOS).index(name)


def times(rng: np.random.Generator, t0: int, n: int, mean_gap_ms: float) -> np.ndarray:
    gaps = rng.exponential(mean_gap_ms, n).astype(np.int64)
    gaps[0] = 0
    return t0 + np.cumsum(gaps)


def spend(rng: np.random.Generator, median_eur: float, sigma: float, n: int) -> np.ndarray:
    return np.clip(rng.lognormal(np.log(median_eur), sigma, n), 5.0, MAX_AMOUNT_EUR)


def card_testing(ctx: Context, t0: int) -> Events | None:
    """Many small amounts across merchants within minutes, mostly online from one bot."""
    rng, pop = ctx.rng, ctx.pop
    card = ctx.victim(t0)
    if card is None:
        return None
    n = int(min(5 + rng.geometric(1 / 8), 40))
    ts = times(rng, t0, n, 40_000)
    small = np.round(rng.uniform(0.5, 3.0, n), 2)
    amount = np.where(rng.random(n) < 0.4, rng.choice([1.0, 2.0, 5.0], n), small)
    device: list[str | None]
    if rng.random() < 0.9:
        webs = pop.web_shops(catalog.TESTING)
        merchant = rng.choice(webs, n, replace=n > len(webs))
        device = [ctx.fraud_device()] * n
        online = True
    else:  # unattended terminals (parking, vending) of one shop
        merchant = np.full(n, pop.pick(rng, pop.shops_in(int(pop.card_home[card])), 1)[0])
        device, online = [None] * n, False  # card present: no device
    events = Events.build(
        ts=ts,
        card=[card] * n,
        merchant=merchant,
        terminal=pop.terminal_of(rng, merchant),
        amount_eur=amount,
        online=[online] * n,
        device=device,
        scenario=code("card_testing"),
    )
    if online and rng.random() < 0.3:  # the card works: cash it out
        shop = pop.pick(rng, pop.web_shops(catalog.HIGH_TICKET), 1)
        last = int(ts[-1]) + int(rng.integers(5, 60)) * MINUTE_MS
        events = Events.concat(
            [
                events,
                Events.build(
                    ts=[last],
                    card=[card],
                    merchant=shop,
                    terminal=pop.terminal_of(rng, shop),
                    amount_eur=spend(rng, 350.0, 0.5, 1),
                    online=[True],
                    device=device[:1],
                    scenario=code("card_testing"),
                ),
            ]
        )
    return events


def account_takeover(ctx: Context, t0: int) -> Events | None:
    """A new device buys online far above the card's usual amounts, within hours."""
    rng, pop = ctx.rng, ctx.pop
    card = ctx.victim(t0, np.flatnonzero(pop.card_online > 0.15))
    if card is None:
        return None
    n = int(min(1 + rng.poisson(1.5), 6))
    ts = times(rng, t0, n, 45 * MINUTE_MS)
    pool = pop.web_shops(catalog.HIGH_TICKET) if rng.random() < 0.6 else pop.web_shops()
    merchant = pop.pick(rng, pool, n)
    # Several times what this card usually spends, whatever is being bought.
    usual = np.maximum(
        amounts_eur(rng, pop, np.full(n, card), merchant),
        np.exp(np.log(TYPICAL_EUR) + pop.card_level[card]),
    )
    amount = np.clip(usual * rng.uniform(4.0, 15.0, n), 150.0, MAX_AMOUNT_EUR)
    return Events.build(
        ts=ts,
        card=[card] * n,
        merchant=merchant,
        terminal=pop.terminal_of(rng, merchant),
        amount_eur=amount,
        online=[True] * n,
        device=[ctx.fraud_device()] * n,
        scenario=code("account_takeover"),
    )


def impossible_travel(ctx: Context, t0: int) -> Events | None:
    """A clone pays far away shortly after the real card paid at home (``t0`` is unused: the
    incident hangs on a real card-present payment of this chunk)."""
    rng, pop, legit = ctx.rng, ctx.pop, ctx.legit
    at_home = ~legit.online & ~ctx.on_trip[legit.card]
    anchors = np.flatnonzero(at_home)
    if not len(anchors):
        return None
    anchor = int(rng.choice(anchors))
    card = ctx.victim(int(legit.ts[anchor]), np.array([legit.card[anchor]]))
    if card is None:
        return None
    here = int(pop.merchant_country[legit.merchant[anchor]])
    far = np.flatnonzero(
        geography.distance_km(here, np.arange(len(geography.COUNTRIES))) > MIN_TRAVEL_KM
    )
    country = int(rng.choice(far))
    n = int(min(1 + rng.poisson(1.0), 4))
    first = int(legit.ts[anchor]) + int(rng.integers(20, 150)) * MINUTE_MS
    ts = times(rng, first, n, 20 * MINUTE_MS)
    merchant = pop.pick(rng, pop.shops_in(country), n)
    amount = amounts_eur(rng, pop, np.full(n, card), merchant) * rng.uniform(2.0, 6.0, n)
    return Events.build(
        ts=ts,
        card=[card] * n,
        merchant=merchant,
        terminal=pop.terminal_of(rng, merchant),
        amount_eur=np.clip(amount, 5.0, MAX_AMOUNT_EUR),
        online=[False] * n,
        device=[None] * n,
        scenario=code("impossible_travel"),
    )


def bust_out(ctx: Context, t0: int, shops: np.ndarray) -> Events | None:
    """A few online purchases at the ring's ``shops`` with a card's own device, at one to
    two and a half times what the card usually spends there, within hours (a drift pattern:
    see :class:`~fraudguard.generator.config.DriftConfig`)."""
    rng, pop = ctx.rng, ctx.pop
    card = ctx.victim(t0, np.flatnonzero(pop.card_online > 0.1))
    if card is None:
        return None
    n = int(min(1 + rng.poisson(1.5), 5))
    ts = times(rng, t0, n, 30 * MINUTE_MS)
    merchant = rng.choice(shops, n)
    amount = amounts_eur(rng, pop, np.full(n, card), merchant) * rng.uniform(1.0, 2.5, n)
    return Events.build(
        ts=ts,
        card=[card] * n,
        merchant=merchant,
        terminal=pop.terminal_of(rng, merchant),
        amount_eur=np.clip(amount, 5.0, MAX_AMOUNT_EUR),
        online=[True] * n,
        device=[pop.card_devices[card, 0]] * n,
        scenario=code("bust_out"),
    )
