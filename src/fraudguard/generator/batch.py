"""A batch of generated transactions in event-time order, ready for the wire.

Columns are plain lists of wire values, so a batch becomes JSON, :class:`Transaction` objects or
an Arrow table without per-row lookups. The ground truth (scenario, report time) travels in
separate columns that are never written with the transactions.

>>> from fraudguard.generator import GeneratorConfig, PaymentStream
>>> batch = next(PaymentStream(GeneratorConfig(cards=100, merchants=60, days=1)).batches())
>>> row = batch.wire_dicts()[0]
>>> list(row) == list(WIRE_FIELDS), row["txn_id"]
(True, 't0000000000')
>>> batch.transactions()[0].to_wire() == row
True
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np
import orjson
import pyarrow as pa

from fraudguard.generator import catalog, geography
from fraudguard.generator.config import DRIFT_SCENARIOS, SCENARIOS
from fraudguard.generator.events import Events
from fraudguard.generator.labels import GroundTruthLabel
from fraudguard.generator.population import Population
from fraudguard.wire.transactions import Transaction

WIRE_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Transaction) if f.name != "ts_ms")
"""The keys of :meth:`Transaction.to_wire`, in its order."""
WIRE_SCHEMA = pa.schema(
    [
        pa.field(name, pa.float64() if name == "amount" else pa.string(), name == "device_id")
        for name in WIRE_FIELDS
    ]
)
SCENARIO_NAMES: tuple[str, ...] = ("none", *SCENARIOS, *DRIFT_SCENARIOS)
_CURRENCY = np.array([c.currency for c in geography.COUNTRIES], dtype=object)
_COUNTRY = np.array(geography.CODES, dtype=object)
_MCC = np.array(catalog.CODES, dtype=object)
_CHANNEL = np.array(["card_present", "online"], dtype=object)
_NAMES = np.array(SCENARIO_NAMES, dtype=object)


def txn_id(number: int, prefix: str = "") -> str:
    """The id of the ``number``-th transaction of a stream: sortable and unique.

    >>> txn_id(42), txn_id(42, prefix="run7-")
    ('t0000000042', 'run7-t0000000042')
    """
    return f"{prefix}t{number:010d}"


def event_times(ts_ms: np.ndarray) -> list[str]:
    """Vectorised :func:`fraudguard.wire.transactions.format_event_time`."""
    text = np.datetime_as_string(ts_ms.astype("datetime64[ms]"), unit="ms")
    return [t + "Z" for t in text.tolist()]


@dataclass(frozen=True, eq=False)
class TransactionBatch:
    """Consecutive transactions of a stream with their ground truth."""

    txn_ids: list[str]
    ts_ms: np.ndarray
    event_time: list[str]
    card_id: list[str]
    customer_id: list[str]
    merchant_id: list[str]
    terminal_id: list[str]
    amount: list[float]
    currency: list[str]
    mcc: list[str]
    country: list[str]
    channel: list[str]
    device_id: list[str | None]
    scenario: np.ndarray
    """0 for legitimate, else 1 + the index in :data:`~fraudguard.generator.config.SCENARIOS`."""
    reported_ms: np.ndarray
    source: np.ndarray
    labels: list[GroundTruthLabel] = field(default_factory=list)
    """Labels of rows of this batch (in no particular order; they are due later)."""

    @classmethod
    def from_events(
        cls, pop: Population, events: Events, first_number: int, id_prefix: str = ""
    ) -> TransactionBatch:
        """Number and format time-ordered ``events``; ids continue from ``first_number``."""
        m = events.merchant
        country = pop.merchant_country[m]
        return cls(
            txn_ids=[txn_id(first_number + i, id_prefix) for i in range(len(events))],
            ts_ms=events.ts,
            event_time=event_times(events.ts),
            card_id=pop.card_ids[events.card].tolist(),
            customer_id=pop.customer_ids[events.card].tolist(),
            merchant_id=pop.merchant_ids[m].tolist(),
            terminal_id=pop.terminal_ids[events.terminal].tolist(),
            amount=geography.to_local(events.amount_eur, country).tolist(),
            currency=_CURRENCY[country].tolist(),
            mcc=_MCC[pop.merchant_mcc[m]].tolist(),
            country=_COUNTRY[country].tolist(),
            channel=_CHANNEL[events.online.astype(np.int8)].tolist(),
            device_id=events.device.tolist(),
            scenario=events.scenario,
            reported_ms=events.reported_ms,
            source=events.source,
        )

    def __len__(self) -> int:
        return len(self.txn_ids)

    def head(self, n: int) -> TransactionBatch:
        """The first ``n`` rows, with only their labels."""
        if n >= len(self):
            return self
        cut = {f.name: getattr(self, f.name)[:n] for f in fields(self) if f.name != "labels"}
        kept = set(cut["txn_ids"])
        return replace(self, **cut, labels=[lab for lab in self.labels if lab.txn_id in kept])

    def rows(self) -> zip[tuple[Any, ...]]:
        """Wire values row by row, in :data:`WIRE_FIELDS` order."""
        return zip(
            self.txn_ids,
            self.event_time,
            self.card_id,
            self.customer_id,
            self.merchant_id,
            self.terminal_id,
            self.amount,
            self.currency,
            self.mcc,
            self.country,
            self.channel,
            self.device_id,
            strict=True,
        )

    def wire_dicts(self) -> list[dict[str, Any]]:
        """Each row as :meth:`Transaction.to_wire` would give it (built directly: ``asdict`` is
        ten times slower and generation must keep up with Kafka)."""
        return [dict(zip(WIRE_FIELDS, row, strict=True)) for row in self.rows()]

    def encoded(self) -> list[bytes]:
        """Each row as the JSON value of the ``transactions`` topic."""
        dumps = orjson.dumps
        return [dumps(dict(zip(WIRE_FIELDS, row, strict=True))) for row in self.rows()]

    def transactions(self) -> list[Transaction]:
        """Each row as a :class:`~fraudguard.wire.transactions.Transaction`."""
        return [
            Transaction(r[0], r[1], ts, *r[2:])
            for r, ts in zip(self.rows(), self.ts_ms.tolist(), strict=True)
        ]

    def to_arrow(self) -> pa.Table:
        """The wire columns as an Arrow table (no ground truth)."""
        columns = [getattr(self, "txn_ids" if n == "txn_id" else n) for n in WIRE_FIELDS]
        return pa.Table.from_arrays(columns, schema=WIRE_SCHEMA)

    def scenario_names(self) -> list[str]:
        return _NAMES[self.scenario].tolist()

    def by_scenario(self) -> Counter[str]:
        """Fraudulent rows per scenario."""
        return Counter(name for name in self.scenario_names() if name != "none")
