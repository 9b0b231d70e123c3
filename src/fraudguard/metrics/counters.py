"""The job's own metrics, counted by its Python operators on their Flink metric group.

Only counters are used, through the two calls PyFlink offers in both execution modes
(``add_group`` and ``counter``). A version "in force" is a counter held at 1 for the version in
use and brought back to 0 when another replaces it. The latency is a histogram in Prometheus's
own shape: one cumulative counter per bucket (label ``le``), with their sum and count.
Python gauges would be read by the reporter's thread, calling into the embedded interpreter
from outside the task thread; Python has no Flink histogram (docs/decisions/0007).

Operators count per batch, so a batch costs a few calls into the JVM, not one per record.
Outside Flink (before ``open``, and in tests) the counters live in an :class:`InMemoryGroup`.

>>> metrics = JobMetrics(InMemoryGroup())
>>> metrics.decisions({"approve": 3, "block": 1}, degraded=1, late=0)
>>> metrics.in_force("xgb-7", "tiers-2")
>>> metrics.latencies([4, 12, 180])
>>> metrics.group.value(DECISIONS, "approve"), metrics.group.value(DEGRADED)
(3, 1)
>>> metrics.group.value(MODEL_IN_FORCE, "xgb-7"), metrics.group.value(LATENCY_BUCKET, "20")
(1, 2)
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping, Sequence
from typing import Protocol

from fraudguard.metrics.names import (
    DEAD_LETTERS,
    DECISIONS,
    DEGRADED,
    EXPLORED,
    LATE,
    LATENCY_BOUNDS_MS,
    LATENCY_BUCKET,
    LATENCY_COUNT,
    LATENCY_SUM,
    MODEL_IN_FORCE,
    THRESHOLDS_IN_FORCE,
    JobMetric,
    latency_bucket_labels,
)


class Counter(Protocol):
    def inc(self, n: int = 1) -> None: ...

    def dec(self, n: int = 1) -> None: ...


class MetricGroup(Protocol):
    """What the job needs of PyFlink's ``MetricGroup``."""

    def add_group(self, name: str, extra: str | None = None) -> MetricGroup: ...

    def counter(self, name: str) -> Counter: ...


class InMemoryCounter:
    def __init__(self) -> None:
        self.count = 0

    def inc(self, n: int = 1) -> None:
        self.count += n

    def dec(self, n: int = 1) -> None:
        self.count -= n


class InMemoryGroup:
    """A metric group that keeps its counters in memory: the operators' before Flink opens
    them, and the tests'. As in Flink, groups are shared by path, and a second counter of a
    name already registered is left out of the group: what it counts is lost."""

    def __init__(self, path: tuple[str, ...] = (), root: InMemoryGroup | None = None) -> None:
        self.path = path
        self.counters: dict[tuple[str, ...], InMemoryCounter] = (
            root.counters if root is not None else {}
        )

    def add_group(self, name: str, extra: str | None = None) -> InMemoryGroup:
        step = (name,) if extra is None else (name, f"={extra}")
        return InMemoryGroup(self.path + step, self)

    def counter(self, name: str) -> InMemoryCounter:
        made = InMemoryCounter()
        self.counters.setdefault(self.path + (name,), made)
        return made

    def value(self, metric: JobMetric, label_value: str | None = None) -> int:
        """The count of ``metric`` (for ``label_value`` when it has a label); 0 if never made."""
        label = () if metric.label is None else (metric.label, f"={label_value}")
        found = self.counters.get((*metric.groups, *label, metric.leaf))
        return found.count if found is not None else 0


def bucket_counts(values: Sequence[int], bounds: Sequence[int] = LATENCY_BOUNDS_MS) -> list[int]:
    """How many ``values`` are at most each bound, then all of them (the ``+Inf`` bucket).

    >>> bucket_counts([0, 5, 6, 70], bounds=(5, 50, 100))
    [2, 3, 4, 4]
    """
    ordered = sorted(values)
    # bisect_left on bound + 1: the values <= bound (they are whole milliseconds)
    return [bisect_left(ordered, bound + 1) for bound in bounds] + [len(ordered)]


class JobMetrics:
    """The job's counters on one operator's metric group, each registered once (Flink refuses
    a second counter of the same name in a group)."""

    def __init__(self, group: MetricGroup) -> None:
        self.group = group
        self._counters: dict[tuple[JobMetric, str | None], Counter] = {}
        self._in_force: dict[JobMetric, str] = {}

    def counter(self, metric: JobMetric, label_value: str | None = None) -> Counter:
        key = (metric, label_value)
        found = self._counters.get(key)
        if found is None:
            group = self.group
            for name in metric.groups:
                group = group.add_group(name)
            if metric.label is not None:
                group = group.add_group(metric.label, label_value)
            found = self._counters[key] = group.counter(metric.leaf)
        return found

    def _add(self, metric: JobMetric, n: int, label_value: str | None = None) -> None:
        if n:
            self.counter(metric, label_value).inc(n)

    def register(self, metric: JobMetric, label_values: Sequence[str]) -> None:
        """Make the counters of ``label_values`` now, so they are exported at 0 before their
        first event (a rate can then be computed from the start)."""
        for value in label_values:
            self.counter(metric, value)

    def decisions(self, outcomes: Mapping[str, int], degraded: int, late: int) -> None:
        """Decisions written, by outcome, and how many of them were degraded or late."""
        for outcome, n in outcomes.items():
            self._add(DECISIONS, n, outcome)
        self._add(DEGRADED, degraded)
        self._add(LATE, late)

    def explored(self, outcome: str, explored: bool) -> None:
        """One decision out of the exploration step."""
        self._add(DECISIONS, 1, outcome)
        self._add(EXPLORED, int(explored))

    def dead_letters(self, reasons: Mapping[str, int]) -> None:
        for reason, n in reasons.items():
            self._add(DEAD_LETTERS, n, reason)

    def in_force(self, model_version: str, threshold_version: str) -> None:
        """The versions the newest decisions were made with: their counters go to 1, the
        ones they replace back to 0."""
        for metric, version in ((MODEL_IN_FORCE, model_version),
                                (THRESHOLDS_IN_FORCE, threshold_version)):  # fmt: skip
            current = self._in_force.get(metric)
            if current == version:
                continue
            if current is not None:
                self.counter(metric, current).dec()
            self.counter(metric, version).inc()
            self._in_force[metric] = version

    def latencies(self, values_ms: Sequence[int]) -> None:
        """Milliseconds from event time to decision, one per decision, into the histogram. A
        transaction stamped ahead of the job's clock (up to ``validation.max_future_ms``)
        counts as decided at once."""
        if not values_ms:
            return
        values_ms = [max(0, value) for value in values_ms]
        counts = bucket_counts(values_ms)
        for bound, n in zip(latency_bucket_labels(), counts, strict=True):
            self._add(LATENCY_BUCKET, n, bound)
        self._add(LATENCY_SUM, sum(values_ms))
        self._add(LATENCY_COUNT, len(values_ms))
