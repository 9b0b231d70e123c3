"""Every metric name the job exports and the dashboard reads, in one place.

The job's own metrics are counters its Python operators register on their Flink metric group
(:mod:`fraudguard.metrics.counters`). Flink's Prometheus reporter names a metric after the
group's logical scope and the counter's name, joined by ``_``; a key-value group adds its key
to the name and its value as a label. So a counter ``total`` in the key-value group
``outcome=approve`` under ``fraudguard`` and ``decisions`` on an operator is
``flink_taskmanager_job_task_operator_fraudguard_decisions_outcome_total{outcome="approve"}``.
:attr:`JobMetric.prometheus_name` is that rule, and the only place it is written.

Flink exports a counter as a Prometheus *gauge* (its counters may go down), without a
``_total`` suffix of its own: the ``total`` in these names is the project's, so that readers
know them for counters (``rate()`` applies; they restart at 0 with the job).

>>> DECISIONS.prometheus_name
'flink_taskmanager_job_task_operator_fraudguard_decisions_outcome_total'
>>> MODEL_IN_FORCE.prometheus_name, MODEL_IN_FORCE.label
('flink_taskmanager_job_task_operator_fraudguard_model_version_in_force', 'model_version')
"""

from __future__ import annotations

from dataclasses import dataclass

OPERATOR_SCOPE = "flink_taskmanager_job_task_operator"
"""The prefix Flink's Prometheus reporter gives every metric of an operator."""
JOB_GROUP = "fraudguard"
"""The subgroup of each operator's metric group that holds the job's own metrics."""


@dataclass(frozen=True)
class JobMetric:
    """One of the job's counters: where an operator registers it, and its Prometheus name.

    The counter ``leaf`` sits in the operator's group ``fraudguard``, then the groups of
    ``path``, then, when ``label`` is set, a key-value group whose key is the label's name and
    whose value is the label's value.
    """

    path: tuple[str, ...]
    leaf: str
    label: str | None
    help: str

    @property
    def groups(self) -> tuple[str, ...]:
        """The groups below the operator's, without the key-value group."""
        return (JOB_GROUP, *self.path)

    @property
    def prometheus_name(self) -> str:
        label = (self.label,) if self.label is not None else ()
        return "_".join((OPERATOR_SCOPE, *self.groups, *label, self.leaf))


DECISIONS = JobMetric(
    ("decisions",), "total", "outcome",
    "decisions by outcome (approve, review, block) as written, after exploration",
)  # fmt: skip
DEGRADED = JobMetric(
    ("decisions",), "degraded_total", None, "decisions the rules made because no model scored"
)
LATE = JobMetric(
    ("decisions",), "late_total", None,
    "decisions of late transactions (behind a newer one of the same card, merchant or device)",
)  # fmt: skip
EXPLORED = JobMetric(
    ("decisions",), "explored_total", None, "would-be reviews and blocks approved to explore"
)
DEAD_LETTERS = JobMetric(
    ("dead_letters",), "total", "reason", "transactions refused to the dead-letter topic, by reason"
)
MODEL_IN_FORCE = JobMetric(
    (), "in_force", "model_version",
    "1 for the model version the last decisions were made with (rules-v1: the rules), else 0",
)  # fmt: skip
THRESHOLDS_IN_FORCE = JobMetric(
    (), "in_force", "threshold_version",
    "1 for the threshold tiers version the last decisions were made with, else 0",
)  # fmt: skip
LATENCY_BUCKET = JobMetric(
    ("decision_latency_ms",), "bucket", "le",
    "decisions made at most le ms after the transaction's event time (cumulative buckets)",
)  # fmt: skip
LATENCY_SUM = JobMetric(
    ("decision_latency_ms",), "sum", None, "milliseconds from event time to decision, summed"
)
LATENCY_COUNT = JobMetric(
    ("decision_latency_ms",), "count", None, "decisions whose latency was measured"
)

# Registered by the job's Java operators (io.fraudguard.flink.ParseLabel and the card step),
# with these groups and leaves: the Prometheus test finds each on a running job.
LABELS_FED = JobMetric(
    ("labels",), "fed_total", None, "fraud labels read from labels for the label-fed features"
)
LABELS_UNUSED = JobMetric(
    ("labels", "unused"), "total", "reason",
    "labels that feed no feature, by reason (bad_label, legit, no_entities)",
)  # fmt: skip
LABELS_LATE = JobMetric(
    ("labels",), "late_total", None,
    "fraud labels that came behind the watermark and were applied on arrival",
)  # fmt: skip

JOB_METRICS: tuple[JobMetric, ...] = (
    DECISIONS, DEGRADED, LATE, EXPLORED, DEAD_LETTERS, MODEL_IN_FORCE, THRESHOLDS_IN_FORCE,
    LATENCY_BUCKET, LATENCY_SUM, LATENCY_COUNT, LABELS_FED, LABELS_UNUSED, LABELS_LATE,
)  # fmt: skip

LATENCY_BOUNDS_MS: tuple[int, ...] = (
    1, 2, 5, 10, 20, 30, 50, 75, 100, 150, 200, 300, 500, 750,
    1_000, 2_000, 5_000, 10_000, 30_000, 60_000,
)  # fmt: skip
"""Upper bounds of the latency buckets; a last bucket, ``+Inf``, holds every decision."""


def latency_bucket_labels() -> list[str]:
    """The ``le`` label of each latency bucket, in order.

    >>> latency_bucket_labels()[:3], latency_bucket_labels()[-1]
    (['1', '2', '5'], '+Inf')
    """
    return [*map(str, LATENCY_BOUNDS_MS), "+Inf"]


FLINK_METRICS: dict[str, str] = {
    "flink_jobmanager_job_lastCheckpointDuration": "milliseconds the last checkpoint took",
    "flink_jobmanager_job_numberOfCompletedCheckpoints": "checkpoints completed",
    "flink_jobmanager_job_numberOfFailedCheckpoints": "checkpoints failed",
    "flink_jobmanager_job_numRestarts": "restarts of the job since it was submitted",
    "flink_taskmanager_job_task_operator_numRecordsInPerSecond": "records in, per operator",
    "flink_taskmanager_job_task_operator_numRecordsOutPerSecond": "records out, per operator",
    "flink_taskmanager_job_task_backPressuredTimeMsPerSecond": "ms a second a task waits",
    "flink_taskmanager_job_task_busyTimeMsPerSecond": "ms a second a task works",
    "flink_taskmanager_job_task_operator_pendingRecords": "records the Kafka source has not read",
}
"""Flink's own metrics that the dashboard and the documentation name (Flink's metric names,
as its Prometheus reporter writes them); the integration test finds each on a running job."""


def exported_names() -> set[str]:
    """Every metric name a query may use: the job's and the Flink metrics named above.

    >>> "flink_jobmanager_job_lastCheckpointDuration" in exported_names()
    True
    """
    return {metric.prometheus_name for metric in JOB_METRICS} | set(FLINK_METRICS)
