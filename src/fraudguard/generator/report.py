"""What a sink wrote: counts, fraud by scenario and speed, with a one-line summary.

>>> tally = Tally(transactions=10_000, fraud=30, labels=45, elapsed_s=0.5)
>>> tally.by_scenario.update({"card_testing": 20, "account_takeover": 10})
>>> head, tail = tally.describe().split("), ")
>>> head
'10,000 transactions, 30 fraud (0.300%: card_testing 20, account_takeover 10'
>>> tail
'45 labels in 0.5 s (20,000 tx/s)'
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from fraudguard.generator.batch import SCENARIO_NAMES, TransactionBatch


@dataclass
class Tally:
    """Running counts of what was written."""

    transactions: int = 0
    fraud: int = 0
    labels: int = 0
    by_scenario: Counter[str] = field(default_factory=Counter)
    elapsed_s: float = 0.0

    def add(self, batch: TransactionBatch) -> None:
        self.add_rows(batch.scenario)

    def add_rows(self, scenario: np.ndarray) -> None:
        """Count rows given their ``scenario`` column (0 for legitimate)."""
        fraud = scenario[scenario != 0]
        self.transactions += len(scenario)
        self.fraud += len(fraud)
        self.by_scenario.update(SCENARIO_NAMES[code] for code in fraud.tolist())

    @property
    def rate(self) -> float:
        """Transactions per second of wall time."""
        return self.transactions / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def fraud_rate(self) -> float:
        return self.fraud / self.transactions if self.transactions else 0.0

    def describe(self) -> str:
        mix = ", ".join(f"{name} {count:,}" for name, count in self.by_scenario.most_common())
        return (
            f"{self.transactions:,} transactions, {self.fraud:,} fraud "
            f"({self.fraud_rate:.3%}{': ' + mix if mix else ''}), {self.labels:,} labels "
            f"in {self.elapsed_s:.1f} s ({self.rate:,.0f} tx/s)"
        )


@dataclass
class FileReport(Tally):
    """What :func:`~fraudguard.generator.sinks.write_files` wrote."""

    out: Path | None = None
    labels_out: Path | None = None


@dataclass
class ProduceReport(Tally):
    """What :func:`~fraudguard.generator.kafka_sink.produce_to_kafka` sent."""

    failed: int = 0
    """Messages the broker did not acknowledge (delivery errors or still queued at the end)."""
    first_event_ms: int | None = None
    last_event_ms: int | None = None
    stopped: Literal["end", "limit", "interrupted"] = "end"
    """Why producing stopped: the stream ended, the limit was reached, or Ctrl-C."""
