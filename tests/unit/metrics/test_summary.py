"""The headline numbers of a recorded scrape, and the quantiles of a histogram's buckets."""

from __future__ import annotations

import math

import pytest

from fraudguard.metrics.exposition import parse_text
from fraudguard.metrics.summary import JobMetricsSummary, histogram_quantile


def test_a_recorded_job_summarised_across_its_operators(
    recorded_text: str, recorded_job: str
) -> None:
    summary = JobMetricsSummary.from_samples(parse_text(recorded_text), recorded_job)
    # reviews are counted by the exploration step, approvals by the decision step
    assert summary.decisions == {"approve": 313.0, "review": 187.0, "block": 0.0}
    assert (summary.degraded, summary.late, summary.explored) == (500.0, 0.0, 2.0)
    assert summary.dead_letters == {"bad_json": 1.0}
    assert (summary.model_versions, summary.threshold_versions) == (["rules-v1"], ["builtin-v1"])
    assert summary.latency_count == 500.0
    assert summary.latency_p50_ms is not None and summary.latency_p99_ms is not None
    # the payments were produced over a minute before the job started: decided 20 to 60 s late
    assert 20_000 <= summary.latency_p50_ms <= summary.latency_p99_ms <= 60_000
    assert str(summary).splitlines()[:3] == [
        "decisions 500: approve 313, review 187 (degraded 500, late 0, explored 2)",
        "dead letters 1: bad_json 1",
        "model rules-v1, thresholds builtin-v1",
    ]


def test_another_jobs_samples_are_left_out(recorded_text: str) -> None:
    summary = JobMetricsSummary.from_samples(parse_text(recorded_text), "some-other-job")
    assert summary.decisions == {} and summary.latency_p50_ms is None
    assert str(summary).splitlines()[-1] == "latency from event time: no decision measured"


def test_a_version_replaced_is_no_longer_in_force() -> None:
    name = "flink_taskmanager_job_task_operator_fraudguard_model_version_in_force"
    text = f'{name}{{model_version="xgb-1"}} 0\n{name}{{model_version="xgb-2"}} 1\n'
    assert JobMetricsSummary.from_samples(parse_text(text)).model_versions == ["xgb-2"]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        (0.0, 0.0),  # the first bucket starts at 0
        (0.25, 10.0),  # exactly the first bucket's count
        (0.5, 15.0),  # halfway through the second bucket's share
        (0.75, 20.0),
        (1.0, 20.0),  # in +Inf: the highest finite bound
    ],
)
def test_quantiles_interpolate_inside_their_bucket(q: float, expected: float) -> None:
    assert histogram_quantile(q, [(math.inf, 8), (20, 6), (10, 2)]) == expected
