"""The job's counters as an operator keeps them: each registered once, versions in force
switched, latencies into cumulative buckets."""

from __future__ import annotations

from fraudguard.metrics.counters import InMemoryGroup, JobMetrics, bucket_counts
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
    latency_bucket_labels,
)


def test_counts_add_up_over_batches() -> None:
    # A counter registered twice would lose its counts, as in Flink (see InMemoryGroup).
    group = InMemoryGroup()
    metrics = JobMetrics(group)
    metrics.register(DECISIONS, ["approve", "review", "block"])
    metrics.decisions({"approve": 5}, degraded=0, late=1)
    metrics.decisions({"approve": 2, "review": 1}, degraded=1, late=0)
    metrics.explored("approve", explored=True)
    metrics.dead_letters({"bad_json": 2, "empty": 1})
    metrics.dead_letters({"bad_json": 1})
    assert [group.value(DECISIONS, o) for o in ("approve", "review", "block")] == [8, 1, 0]
    assert (group.value(DEGRADED), group.value(LATE), group.value(EXPLORED)) == (1, 1, 1)
    assert group.value(DEAD_LETTERS, "bad_json") == 3


def test_a_second_registration_is_lost_as_in_flink() -> None:
    group = InMemoryGroup()
    group.add_group("fraudguard").counter("x").inc(2)
    group.add_group("fraudguard").counter("x").inc(5)
    assert group.counters[("fraudguard", "x")].count == 2


def test_a_new_version_takes_the_old_ones_place() -> None:
    group = InMemoryGroup()
    metrics = JobMetrics(group)
    metrics.in_force("xgb-1", "tiers-1")
    metrics.in_force("xgb-1", "tiers-1")  # unchanged: still 1, not 2
    assert group.value(MODEL_IN_FORCE, "xgb-1") == 1
    metrics.in_force("rules-v1", "tiers-1")
    assert group.value(MODEL_IN_FORCE, "xgb-1") == 0
    assert group.value(MODEL_IN_FORCE, "rules-v1") == 1
    assert group.value(THRESHOLDS_IN_FORCE, "tiers-1") == 1


def test_latencies_fill_cumulative_buckets_with_their_sum_and_count() -> None:
    group = InMemoryGroup()
    metrics = JobMetrics(group)
    metrics.latencies([-40, 3, 3, 75, 999_999])  # ahead of the clock counts as 0
    buckets = [group.value(LATENCY_BUCKET, le) for le in latency_bucket_labels()]
    assert buckets == bucket_counts([0, 3, 3, 75, 999_999])
    assert buckets[LATENCY_BOUNDS_MS.index(2)] == 1 and buckets[LATENCY_BOUNDS_MS.index(5)] == 3
    assert buckets[LATENCY_BOUNDS_MS.index(75)] == 4 and buckets[-2:] == [4, 5]
    assert group.value(LATENCY_SUM) == 3 + 3 + 75 + 999_999
    assert group.value(LATENCY_COUNT) == 5
    assert buckets == sorted(buckets)


def test_an_empty_batch_counts_nothing() -> None:
    group = InMemoryGroup()
    JobMetrics(group).latencies([])
    JobMetrics(group).decisions({}, degraded=0, late=0)
    assert group.counters == {}
