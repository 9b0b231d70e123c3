"""Outcomes between files: a backtest's (or a decision log's) decisions and the generator's
ground truth in, the bank's labels file out, in our labels format.

>>> import tempfile
>>> folder = Path(tempfile.mkdtemp())
>>> pq.write_table(pa.table({
...     "txn_id": ["t1", "t2"], "card_id": ["c1", "c2"], "decision": ["approve", "block"],
...     "explored": [False, False], "propensity": [1.0, 0.99], "ts_ms": [0, 0],
...     "amount": [10.0, 20.0]}), folder / "decisions.parquet")
>>> truth = folder / "truth.labels.jsonl"
>>> _ = truth.write_text("".join(f'{{"txn_id": "{t}", "label": "fraud"}}\\n' for t in ("t1", "t2")))
>>> from fraudguard.config import OutcomesSettings
>>> report = write_bank_labels(folder / "decisions.parquet", truth, folder / "bank.labels.jsonl",
...                            OutcomesSettings())
>>> dict(report.labels), report.frauds_seen, report.frauds_decided
({'chargeback': 1}, 1, 2)
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from fraudguard.config import OutcomesSettings
from fraudguard.errors import ConfigError
from fraudguard.generator.sinks import LABEL_SCHEMA, open_writer, read_records
from fraudguard.outcomes.bank import BankLabel, DecisionFacts, bank_labels

ENTITY_COLUMNS = ("merchant_id", "terminal_id")
"""Optional in a decisions file: a decision log's records, or a backtest's decisions, may
predate them; the labels then name them empty."""
DECISION_COLUMNS: tuple[str, ...] = tuple(
    c for c in DecisionFacts._fields if c not in ENTITY_COLUMNS
)


@dataclass
class OutcomesReport:
    """What a run of outcomes wrote."""

    out: Path
    decisions: int = 0
    frauds_decided: int = 0
    """Decisions of fraudulent payments (ground truth)."""
    frauds_seen: int = 0
    """Of those, the ones the bank learns were fraud (a chargeback or a true verdict)."""
    labels: Counter[str] = field(default_factory=Counter)
    """Labels written per source."""

    def summary(self) -> str:
        by_source = ", ".join(f"{k} {v:,}" for k, v in sorted(self.labels.items())) or "none"
        return (
            f"{self.out}: {sum(self.labels.values()):,} labels ({by_source}) for "
            f"{self.decisions:,} decisions; the bank learns of {self.frauds_seen:,} of "
            f"{self.frauds_decided:,} frauds"
        )


def read_decisions(path: Path) -> list[DecisionFacts]:
    """The facts outcomes need from a decisions file (a backtest's ``decisions.parquet``)."""
    names = pq.read_schema(path).names
    missing = [c for c in DECISION_COLUMNS if c not in names]
    if missing:
        raise ConfigError(f"{path}: not a decisions file (no {', '.join(missing)})")
    kept = [c for c in DecisionFacts._fields if c in names]
    return decision_facts(pq.read_table(path, columns=kept))


def decision_facts(table: pa.Table) -> list[DecisionFacts]:
    """The facts of a decisions table with at least :data:`DECISION_COLUMNS`.

    >>> facts = decision_facts(pa.table({"txn_id": ["t1"], "card_id": ["c1"],
    ...     "decision": ["approve"], "explored": [False], "propensity": [1.0], "ts_ms": [0],
    ...     "amount": [10.0], "merchant_id": [None]}))
    >>> facts[0].merchant_id, facts[0].terminal_id
    ('', '')
    """
    columns = [table[c].to_pylist() for c in DECISION_COLUMNS]
    for name in ENTITY_COLUMNS:
        found = table[name].to_pylist() if name in table.column_names else [None] * len(table)
        columns.append([value or "" for value in found])
    return [DecisionFacts(*row) for row in zip(*columns, strict=True)]


def read_fraud_ids(ground_truth: Path) -> set[str]:
    """Ids of the payments the generator's labels file says were fraud (evaluation only:
    outcomes uses it to decide what a label says, never whether there is one)."""
    return {r["txn_id"] for r in read_records(ground_truth) if r.get("label") == "fraud"}


def labels_table(labels: list[BankLabel]) -> pa.Table:
    """Bank labels as a table of our labels format."""
    return pa.Table.from_pylist([x.to_dict() for x in labels], schema=LABEL_SCHEMA)


def write_bank_labels(
    decisions: Path, ground_truth: Path, out: Path, settings: OutcomesSettings
) -> OutcomesReport:
    """Write to ``out`` (``.jsonl``, ``.csv`` or ``.parquet``) the labels the bank gets for
    the decisions in ``decisions``, ordered by report time."""
    facts = read_decisions(decisions)
    frauds = read_fraud_ids(ground_truth)
    labels = bank_labels(facts, frauds, settings)
    out.parent.mkdir(parents=True, exist_ok=True)
    writer = open_writer(out, LABEL_SCHEMA)
    try:
        writer.write(labels_table(labels))
    finally:
        writer.close()
    report = OutcomesReport(out, decisions=len(facts))
    report.frauds_decided = sum(f.txn_id in frauds for f in facts)
    report.frauds_seen = sum(x.label == "fraud" and x.txn_id in frauds for x in labels)
    report.labels.update(x.source for x in labels)
    return report
