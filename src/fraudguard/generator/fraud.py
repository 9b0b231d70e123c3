"""How much fraud, of which kind, and when: the planner that keeps the fraud rate on target.

Each chunk of simulated time adds ``legit * rate / (1 - rate)`` fraudulent transactions to a
per-scenario debt; incidents are drawn while a scenario owes at least half a typical incident.
Whatever an incident over- or under-shoots carries to the next chunk, so the realised rate stays
close to the configured one however lumpy incidents are. Victims are burnt for 60 days (the card
is blocked and reissued), so one card is not hit twice in a row.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from fraudguard.generator import scenarios
from fraudguard.generator.calendar import DAY_MS, MINUTE_MS, intensity, sample_times
from fraudguard.generator.config import SCENARIOS, GeneratorConfig
from fraudguard.generator.events import Events
from fraudguard.generator.labels import report_delays
from fraudguard.generator.population import Population, new_device_ids
from fraudguard.generator.skimming import CompromisedTerminals

BURN_MS = 60 * DAY_MS
RING_REUSE = 0.3
"""Chance that an incident reuses a device of the fraud ring seen before."""
TYPICAL_SIZE = {
    "card_testing": 13.0,
    "compromised_terminal": 2.2,
    "account_takeover": 2.3,
    "impossible_travel": 2.0,
}
"""Mean fraudulent transactions per incident, used to decide when a scenario owes one."""


class FraudPlanner:
    """Adds fraud incidents to each chunk of legitimate traffic."""

    def __init__(self, pop: Population, config: GeneratorConfig, rng: np.random.Generator):
        self.pop = pop
        self.config = config
        self.rng = rng
        self.weights = config.weights()
        self.debt = dict.fromkeys(SCENARIOS, 0.0)
        self.burnt_until = np.zeros(pop.cards, dtype=np.int64)
        self.ring: list[str] = []
        self.terminals = CompromisedTerminals()
        self.legit = Events.empty()
        self.on_trip = np.zeros(pop.cards, dtype=bool)
        self._end_ms = config.end_ms if config.end_ms is not None else np.iinfo(np.int64).max
        self.drift_debt = 0.0

    # -- the Context the scenarios use -------------------------------------------------------
    def victim(self, t0: int, candidates: np.ndarray | None = None) -> int | None:
        """A card not hit recently, from ``candidates`` (all cards by default); burns it."""
        pool = np.arange(self.pop.cards) if candidates is None else candidates
        pool = pool[self.burnt_until[pool] <= t0]
        if not len(pool):
            return None
        card = int(self.rng.choice(pool))
        self.burnt_until[card] = t0 + BURN_MS
        return card

    def fraud_device(self) -> str:
        """A device of the fraud ring: sometimes one seen before, usually a fresh one."""
        if self.ring and self.rng.random() < RING_REUSE:
            return self.ring[int(self.rng.integers(len(self.ring)))]
        device = str(new_device_ids(self.rng, 1)[0])
        self.ring = [*self.ring[-499:], device]
        return device

    # -- planning ------------------------------------------------------------------------------
    def chunk(self, start_ms: int, end_ms: int, legit: Events, on_trip: np.ndarray) -> Events:
        """Fraud events of incidents starting in ``[start_ms, end_ms)``; some may end later."""
        self.legit, self.on_trip = legit, on_trip
        rate = self.config.fraud_rate
        owed = len(legit) * rate / (1 - rate)
        ct_incidents = (
            owed * self.weights["compromised_terminal"] / TYPICAL_SIZE["compromised_terminal"]
        )
        if ct_incidents > 0:
            self._keep_skimming(start_ms, ct_incidents)
        self.terminals.observe(legit, start_ms)
        grid = intensity(start_ms, -(-(end_ms - start_ms) // MINUTE_MS), 60)
        made: list[Events] = []
        for name in SCENARIOS:
            self.debt[name] += owed * self.weights[name]
            size = TYPICAL_SIZE[name]
            cap = max(3, int(3 * owed * self.weights[name] / size))
            for _ in range(cap):
                if self.debt[name] < size / 2:
                    break
                # Half of all fraud follows people's rhythm, the other half runs round the clock.
                if self.rng.random() < 0.5:
                    t0 = int(sample_times(self.rng, grid, start_ms, end_ms, 1)[0])
                else:
                    t0 = int(self.rng.integers(start_ms, end_ms))
                events = self._incident(name, t0)
                if events is None:
                    break
                self.debt[name] -= int((events.ts < self._end_ms).sum())
                made.append(self._reported(events))
        made += self._drift(start_ms, end_ms, len(legit))
        return Events.concat(made)

    def _drift(self, start_ms: int, end_ms: int, legit: int) -> list[Events]:
        """The drift's incidents starting in ``[start_ms, end_ms)``, none before its day; no
        random draw is made before then, so the stream up to it is the one without drift."""
        drift, begin = self.config.drift, self.config.drift_start_ms
        if drift is None or begin is None or end_ms <= begin:
            return []
        first = max(start_ms, begin)
        share = (end_ms - first) / (end_ms - start_ms)
        self.drift_debt += legit * share * drift.fraud_rate / (1 - drift.fraud_rate)
        size = 1 + 1.5  # mean purchases per bust-out incident
        made = []
        while self.drift_debt >= size / 2:
            t0 = int(self.rng.integers(first, end_ms))
            events = scenarios.bust_out(self, t0, self.pop.ring_shops())
            if events is None:
                break
            self.drift_debt -= len(events)
            made.append(self._reported(events))
        return made

    def _incident(self, name: str, t0: int) -> Events | None:
        if name == "compromised_terminal":
            return self.terminals.cash_out(self, t0)
        build = getattr(scenarios, name)
        result: Events | None = build(self, t0)
        return result

    def _keep_skimming(self, start_ms: int, incidents_per_chunk: float) -> None:
        # Keep about a week of skimmed cards in stock, with at least one skimmer running.
        stock = len(self.terminals.skimmed)
        if not self.terminals.windows or stock < 7 * incidents_per_chunk:
            self.terminals.compromise(self, start_ms)

    def _reported(self, events: Events) -> Events:
        """Stamp one report on all events of an incident: they are disputed together."""
        source, delay = report_delays(
            self.rng, 1, self.config.label_delay_median_days, self.config.max_label_delay_days
        )
        n = len(events)
        return replace(
            events,
            reported_ms=np.full(n, int(events.ts.max()) + int(delay[0]), dtype=np.int64),
            source=np.full(n, source[0], dtype=np.int8),
        )
