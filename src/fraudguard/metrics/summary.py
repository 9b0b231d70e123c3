"""The headline numbers of a running job, from its metrics: what ``fraudguard stack status``
shows. Counts run from the job's start (a restart begins them again at 0); the latency
quantiles come from the histogram's buckets as Prometheus's ``histogram_quantile`` estimates
them, over the same period.

>>> from fraudguard.metrics.exposition import parse_text
>>> scope = "flink_taskmanager_job_task_operator_fraudguard"
>>> text = "\\n".join([
...     f'{scope}_decisions_outcome_total{{outcome="approve",job_name="j"}} 96',
...     f'{scope}_decisions_outcome_total{{outcome="block",job_name="j"}} 4',
...     f'{scope}_decisions_degraded_total{{job_name="j"}} 0',
...     f'{scope}_dead_letters_reason_total{{reason="bad_json",job_name="j"}} 2',
...     f'{scope}_model_version_in_force{{model_version="xgb-7",job_name="j"}} 1',
...     f'{scope}_model_version_in_force{{model_version="xgb-6",job_name="j"}} 0',
...     f'{scope}_decision_latency_ms_le_bucket{{le="50",job_name="j"}} 90',
...     f'{scope}_decision_latency_ms_le_bucket{{le="100",job_name="j"}} 100',
...     f'{scope}_decision_latency_ms_le_bucket{{le="+Inf",job_name="j"}} 100',
... ])
>>> print(JobMetricsSummary.from_samples(parse_text(text), job_name="j"))
decisions 100: approve 96, block 4 (degraded 0, late 0, explored 0)
dead letters 2: bad_json 2
model xgb-7, thresholds none
latency from event time: p50 28 ms, p99 95 ms (100 decisions)
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from fraudguard.metrics.exposition import Sample
from fraudguard.metrics.names import (
    DEAD_LETTERS,
    DECISIONS,
    DEGRADED,
    EXPLORED,
    LATE,
    LATENCY_BUCKET,
    MODEL_IN_FORCE,
    THRESHOLDS_IN_FORCE,
    JobMetric,
)

OUTCOMES = ("approve", "review", "block")


def histogram_quantile(q: float, buckets: Sequence[tuple[float, float]]) -> float | None:
    """The ``q`` quantile of cumulative ``(upper bound, count)`` buckets, interpolated linearly
    inside its bucket as Prometheus does (the first bucket starts at 0; a quantile in the
    ``+Inf`` bucket is the highest finite bound). None without observations.

    >>> histogram_quantile(0.5, [(10, 2), (20, 6), (math.inf, 8)])
    15.0
    >>> histogram_quantile(0.99, [(10, 2), (20, 6), (math.inf, 8)]), histogram_quantile(
    ...     0.5, [(10, 0), (math.inf, 0)])
    (20, None)
    """
    ordered = sorted(buckets)
    if not ordered or ordered[-1][1] <= 0:
        return None
    rank = q * ordered[-1][1]
    lower, below = 0.0, 0.0
    for upper, count in ordered:
        if count >= rank:
            if math.isinf(upper):
                return lower
            if count == below:
                return upper
            return lower + (upper - lower) * (rank - below) / (count - below)
        lower, below = upper, count
    return lower


@dataclass(frozen=True)
class JobMetricsSummary:
    decisions: dict[str, float]
    degraded: float
    late: float
    explored: float
    dead_letters: dict[str, float]
    model_versions: list[str]
    """Versions in force (several only while subtasks disagree, during a change)."""
    threshold_versions: list[str]
    latency_p50_ms: float | None
    latency_p99_ms: float | None
    latency_count: float

    @classmethod
    def from_samples(
        cls, samples: Iterable[Sample], job_name: str | None = None
    ) -> JobMetricsSummary:
        """Summed over operators and subtasks; only ``job_name``'s samples when given (an
        endpoint of a cluster serves every job it runs)."""
        by_name: dict[str, list[Sample]] = defaultdict(list)
        for sample in samples:
            if job_name is None or sample.labels.get("job_name") == job_name:
                by_name[sample.name].append(sample)

        def by_label(metric: JobMetric) -> dict[str, float]:
            sums: dict[str, float] = defaultdict(float)
            for sample in by_name[metric.prometheus_name]:
                sums[sample.labels.get(metric.label or "", "")] += sample.value
            return dict(sums)

        def total(metric: JobMetric) -> float:
            return sum(sample.value for sample in by_name[metric.prometheus_name])

        def in_force(metric: JobMetric) -> list[str]:
            return sorted(version for version, n in by_label(metric).items() if n > 0)

        buckets = [(float(le), n) for le, n in by_label(LATENCY_BUCKET).items()]
        return cls(
            decisions=by_label(DECISIONS),
            degraded=total(DEGRADED),
            late=total(LATE),
            explored=total(EXPLORED),
            dead_letters={r: n for r, n in by_label(DEAD_LETTERS).items() if n > 0},
            model_versions=in_force(MODEL_IN_FORCE),
            threshold_versions=in_force(THRESHOLDS_IN_FORCE),
            latency_p50_ms=histogram_quantile(0.5, buckets),
            latency_p99_ms=histogram_quantile(0.99, buckets),
            latency_count=max((n for _, n in buckets), default=0.0),
        )

    def __str__(self) -> str:
        decided = sum(self.decisions.values())
        outcomes = [o for o in OUTCOMES if self.decisions.get(o)]
        outcomes += sorted(o for o in self.decisions if o not in OUTCOMES and self.decisions[o])
        by_outcome = ", ".join(f"{o} {self.decisions[o]:,.0f}" for o in outcomes)
        lines = [
            f"decisions {decided:,.0f}{': ' + by_outcome if by_outcome else ''} "
            f"(degraded {self.degraded:,.0f}, late {self.late:,.0f}, "
            f"explored {self.explored:,.0f})"
        ]
        dead = sum(self.dead_letters.values())
        reasons = ", ".join(f"{r} {n:,.0f}" for r, n in sorted(self.dead_letters.items()))
        lines.append(f"dead letters {dead:,.0f}{': ' + reasons if reasons else ''}")
        model = ", ".join(self.model_versions) or "none"
        thresholds = ", ".join(self.threshold_versions) or "none"
        lines.append(f"model {model}, thresholds {thresholds}")
        if self.latency_p50_ms is None or self.latency_p99_ms is None:
            lines.append("latency from event time: no decision measured")
        else:
            lines.append(
                f"latency from event time: p50 {self.latency_p50_ms:,.0f} ms, "
                f"p99 {self.latency_p99_ms:,.0f} ms ({self.latency_count:,.0f} decisions)"
            )
        return "\n".join(lines)
