"""The names in fraudguard.metrics.names are the ones Flink's reporter wrote for a real job."""

from __future__ import annotations

from fraudguard.metrics.exposition import parse_text
from fraudguard.metrics.names import FLINK_METRICS, JOB_METRICS, OPERATOR_SCOPE


def test_every_name_was_served_by_a_real_job(recorded_text: str) -> None:
    served = {sample.name for sample in parse_text(recorded_text)}
    job = {metric.prometheus_name for metric in JOB_METRICS}
    assert job <= served, sorted(job - served)
    assert set(FLINK_METRICS) <= served, sorted(set(FLINK_METRICS) - served)


def test_job_metrics_are_distinct_and_carry_their_label(recorded_text: str) -> None:
    names = [metric.prometheus_name for metric in JOB_METRICS]
    assert len(set(names)) == len(names)
    samples = parse_text(recorded_text)
    for metric in JOB_METRICS:
        assert metric.prometheus_name.startswith(f"{OPERATOR_SCOPE}_fraudguard_")
        labelled = [s for s in samples if s.name == metric.prometheus_name]
        if metric.label is not None:
            assert all(metric.label in s.labels for s in labelled), metric
