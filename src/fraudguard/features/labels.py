"""Fraud labels as the label-fed features read them, from the ``labels`` topic or a labels file.

A label feeds the features when it says ``fraud``, has a ``reported_at`` and names the
payment's entities (``card_id``, ``merchant_id``, ``terminal_id``); a legitimate verdict or a
label without its entities still teaches the re-ranker, but feeds no feature. The job's reader
(``io.fraudguard.flink.ParseLabel``) applies the same rules; ``contracts/label-cases.json``
holds the cases both sides are tested on.

>>> doc = {"txn_id": "t1", "label": "fraud", "reported_at": "2026-11-23T10:00:00Z",
...        "card_id": "c1", "merchant_id": "m1", "terminal_id": "m1-t1"}
>>> fraud_label(doc)
FraudLabel(txn_id='t1', reported_ms=1795428000000, card_id='c1', merchant_id='m1', \
terminal_id='m1-t1')
>>> fraud_label({**doc, "label": "legit"}) is None, fraud_label({**doc, "terminal_id": ""})
(True, None)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fraudguard.errors import InvalidLabel
from fraudguard.wire.labels import label_entities, label_fields, label_time


@dataclass(frozen=True, slots=True)
class FraudLabel:
    """A payment labelled fraud, its entities, and when the bank learnt it."""

    txn_id: str
    reported_ms: int
    card_id: str
    merchant_id: str
    terminal_id: str


def fraud_label(doc: dict[str, Any]) -> FraudLabel | None:
    """The label's :class:`FraudLabel`, or None when it feeds no feature (legitimate, or
    without its entities); ``InvalidLabel`` when it is no label at all."""
    txn_id, is_fraud = label_fields(doc, "bad_label")
    reported_ms = label_time(doc, "reported_at", "bad_label")
    entities = label_entities(doc)
    if not is_fraud or entities is None:
        return None
    return FraudLabel(txn_id, reported_ms, *entities)


@dataclass
class FraudLabels:
    """The fraud labels of a file, and how many of its labels feed no feature, by why."""

    labels: list[FraudLabel] = field(default_factory=list)
    unused: Counter[str] = field(default_factory=Counter)

    @classmethod
    def of(cls, docs: Iterable[dict[str, Any]]) -> FraudLabels:
        """
        >>> read = FraudLabels.of([{"txn_id": "t1", "label": "legit", "reported_at": "x"}, {}])
        >>> read.labels, dict(read.unused)
        ([], {'bad_label': 2})
        """
        read = cls()
        for doc in docs:
            try:
                label = fraud_label(doc)
            except InvalidLabel as exc:
                read.unused[exc.reason] += 1
                continue
            if label is None:
                read.unused["legit" if doc.get("label") == "legit" else "no_entities"] += 1
            else:
                read.labels.append(label)
        return read

    @classmethod
    def from_file(cls, path: Path) -> FraudLabels:
        """A labels file as ``fraudguard generate`` and ``replay convert`` write it."""
        from fraudguard.generator.sinks import read_records

        return cls.of(read_records(path))

    def usage(self, fed: int) -> dict[str, Any]:
        """How many labels fed the features, given that the first ``fed`` fraud labels in
        report order were applied: the rest came after the last payment (``after_last``).

        >>> read = FraudLabels([FraudLabel("t1", 5, "c", "m", "m-t")] * 3, Counter(legit=4))
        >>> read.usage(fed=2)
        {'fed': 2, 'unused': {'after_last': 1, 'legit': 4}}
        """
        unused = self.unused + Counter(after_last=len(self.labels) - fed)
        return {"fed": fed, "unused": dict(sorted(unused.items()))}

    def fed_before(self, last_ts_ms: int | None) -> int:
        """How many fraud labels a run applies whose last payment is at ``last_ts_ms`` (None:
        no payment): those reported before it.

        >>> read = FraudLabels([FraudLabel("t1", 5, "c", "m", "m-t")] * 3)
        >>> read.fed_before(6), read.fed_before(5), read.fed_before(None)
        (3, 0, 0)
        """
        if last_ts_ms is None:
            return 0
        return sum(label.reported_ms < last_ts_ms for label in self.labels)


def usage_line(usage: dict[str, Any]) -> str:
    """:meth:`FraudLabels.usage` for a person.

    >>> usage_line({"fed": 2, "unused": {"after_last": 1, "legit": 4}})
    '2 fraud labels fed the features, 5 labels did not (after_last 1, legit 4)'
    >>> usage_line({"fed": 0, "unused": {}})
    '0 fraud labels fed the features'
    """
    line = f"{usage['fed']:,} fraud labels fed the features"
    unused = usage["unused"]
    if not unused:
        return line
    reasons = ", ".join(f"{why} {n:,}" for why, n in unused.items())
    return f"{line}, {sum(unused.values()):,} labels did not ({reasons})"
