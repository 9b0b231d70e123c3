"""Compromised terminals: a skimmer copies every card used at one shop terminal for weeks; days
later the copies are spent elsewhere, cloned at shops at home or abroad, or online.

>>> skimmers = CompromisedTerminals()
>>> skimmers.windows[7] = (0, 10 * DAY_MS)
>>> from fraudguard.generator.events import Events
>>> day = Events.build(ts=[1_000, 2_000], card=[3, 4], merchant=[1, 1], terminal=[7, 8],
...                    amount_eur=[9.0, 9.0], online=[False, False], device=[None, None])
>>> skimmers.observe(day, now_ms=0)
>>> skimmers.skimmed
{3: (1000, 1)}
>>> skimmers.ready(t0=DAY_MS).tolist(), skimmers.ready(t0=DAY_MS + 1_000).tolist()
([], [3])
"""

from __future__ import annotations

import numpy as np

from fraudguard.generator import catalog, geography
from fraudguard.generator.calendar import DAY_MS, MINUTE_MS
from fraudguard.generator.events import Events
from fraudguard.generator.scenarios import Context, code, spend, times

SKIM_TO_FRAUD_MS = DAY_MS
"""Copies of a skimmed card are used at the earliest a day after the skim."""
_HIGH_TICKET = [catalog.index_of(m) for m in catalog.HIGH_TICKET]


class CompromisedTerminals:
    """Skimmers on shop terminals and the cards they copied."""

    def __init__(self) -> None:
        self.windows: dict[int, tuple[int, int]] = {}
        """Terminal index -> skimming period [start, end) in epoch ms."""
        self.skimmed: dict[int, tuple[int, int]] = {}
        """Card index -> (when, at which merchant) it was first skimmed; removed once used."""

    def compromise(self, ctx: Context, start_ms: int) -> None:
        """Put a skimmer on the terminal of a random card-present payment (busy ones likelier)."""
        rng, legit = ctx.rng, ctx.legit
        present = np.flatnonzero(~legit.online)
        if not len(present):
            return
        event = int(rng.choice(present))
        weeks = int(rng.integers(7, 36))
        self.windows[int(legit.terminal[event])] = (start_ms, start_ms + weeks * DAY_MS)

    def observe(self, legit: Events, now_ms: int) -> None:
        """Record the cards used at skimming terminals; forget skimmers whose period ended
        before ``now_ms``."""
        self.windows = {t: w for t, w in self.windows.items() if w[1] > now_ms}
        if not self.windows:
            return
        hit = np.flatnonzero(~legit.online & np.isin(legit.terminal, list(self.windows)))
        for i in hit[np.argsort(legit.ts[hit], kind="stable")].tolist():
            start, end = self.windows[int(legit.terminal[i])]
            if start <= legit.ts[i] < end:
                self.skimmed.setdefault(
                    int(legit.card[i]), (int(legit.ts[i]), int(legit.merchant[i]))
                )
        expired = now_ms - 60 * DAY_MS
        self.skimmed = {c: s for c, s in self.skimmed.items() if s[0] >= expired}

    def ready(self, t0: int) -> np.ndarray:
        """Skimmed cards whose copies can be used at ``t0``."""
        limit = t0 - SKIM_TO_FRAUD_MS
        ready = sorted(c for c, (t, _) in self.skimmed.items() if t <= limit)
        return np.array(ready, dtype=np.int64)

    def cash_out(self, ctx: Context, t0: int) -> Events | None:
        """Spend one skimmed card elsewhere: cloned at shops at home or abroad, or online."""
        rng, pop = ctx.rng, ctx.pop
        card = ctx.victim(t0, self.ready(t0))
        if card is None:
            return None
        _, skimmer = self.skimmed.pop(card)
        n = int(min(1 + rng.poisson(1.2), 5))
        ts = times(rng, t0, n, 30 * MINUTE_MS)
        device: list[str | None]
        if rng.random() < 0.3:
            merchant = pop.pick(rng, pop.web_shops(catalog.HIGH_TICKET), n)
            online, device = True, [ctx.fraud_device()] * n
        else:
            home = int(pop.card_home[card])
            abroad = rng.random() < 0.5
            country = (
                int(rng.choice(np.flatnonzero(np.arange(len(geography.COUNTRIES)) != home)))
                if abroad
                else home
            )
            shops = pop.shops_in(country)
            shops = shops[shops != skimmer] if len(shops) > 1 else shops
            # Clones buy what resells: electronics, jewellery, department stores, if any.
            resell = shops[np.isin(pop.merchant_mcc[shops], _HIGH_TICKET)]
            merchant = pop.pick(rng, resell if len(resell) else shops, n)
            online, device = False, [None] * n
        return Events.build(
            ts=ts,
            card=[card] * n,
            merchant=merchant,
            terminal=pop.terminal_of(rng, merchant),
            amount_eur=spend(rng, 250.0, 0.6, n),
            online=[online] * n,
            device=device,
            scenario=code("compromised_terminal"),
        )
