"""The synthetic payment stream: legitimate traffic plus fraud, one simulated day at a time,
numbered and yielded in event-time order.

>>> from fraudguard.generator.config import GeneratorConfig
>>> stream = PaymentStream(GeneratorConfig(seed=1, cards=300, merchants=80, days=2))
>>> batches = list(stream.batches())
>>> ts = np.concatenate([b.ts_ms for b in batches])
>>> bool((np.diff(ts) >= 0).all()), 1000 < len(ts) < 1800
(True, True)
>>> next(stream.transactions()).txn_id
't0000000000'
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from functools import cached_property

import numpy as np

from fraudguard.generator.batch import TransactionBatch
from fraudguard.generator.calendar import DAY_MS
from fraudguard.generator.config import GeneratorConfig
from fraudguard.generator.events import Events
from fraudguard.generator.fraud import FraudPlanner
from fraudguard.generator.labels import labels_for
from fraudguard.generator.legit import LegitTraffic
from fraudguard.generator.population import Population, build_population
from fraudguard.wire.transactions import Transaction


class PaymentStream:
    """A reproducible stream of card payments with ground truth.

    Iterating twice gives the same stream: every iteration starts again from the seed. An
    endless configuration (``days=None``) yields batches forever.
    """

    def __init__(self, config: GeneratorConfig) -> None:
        self.config = config
        # Independent generators: changing how labels are drawn must not change the payments.
        seeds = np.random.SeedSequence(config.seed).spawn(4)
        self._population_seed, self._legit_seed, self._fraud_seed, self._label_seed = seeds

    @cached_property
    def population(self) -> Population:
        return build_population(self.config, np.random.default_rng(self._population_seed))

    def periods(self) -> Iterator[tuple[int, int]]:
        """The simulated days ``[start, end)`` in epoch ms; the last may be shorter."""
        start, end = self.config.start_ms, self.config.end_ms
        while end is None or start < end:
            stop = start + DAY_MS if end is None else min(start + DAY_MS, end)
            yield start, stop
            start = stop

    def batches(self) -> Iterator[TransactionBatch]:
        """Batches of at most ``config.batch_size`` transactions, in event-time order, each
        carrying the labels of its rows."""
        config, pop = self.config, self.population
        legit_source = LegitTraffic(pop, np.random.default_rng(self._legit_seed))
        planner = FraudPlanner(pop, config, np.random.default_rng(self._fraud_seed))
        label_rng = np.random.default_rng(self._label_seed)
        pending = Events.empty()
        number = 0
        for start, stop in self.periods():
            legit = legit_source.chunk(start, stop)
            fraud = planner.chunk(start, stop, legit, legit_source.on_trip())
            events = Events.concat([pending, legit, fraud])
            # Incidents may run past the end of the day: their tail waits for the next one.
            due = events.ts < stop
            pending = events.select(~due)
            ready = events.select(due).sorted()
            for first in range(0, len(ready), config.batch_size):
                part = ready.select(slice(first, first + config.batch_size))
                if config.amount_scale != 1.0:
                    part = replace(part, amount_eur=part.amount_eur * config.amount_scale)
                batch = TransactionBatch.from_events(pop, part, number, config.txn_id_prefix)
                labels = labels_for(
                    batch,
                    label_rng,
                    config.legit_label_rate,
                    config.label_delay_median_days,
                    config.max_label_delay_days,
                )
                number += len(batch)
                yield replace(batch, labels=labels)

    def transactions(self) -> Iterator[Transaction]:
        """Every transaction of the stream, one by one."""
        for batch in self.batches():
            yield from batch.transactions()
