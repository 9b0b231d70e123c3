"""The job's metrics for Prometheus: their names (``names``), how the operators count them
(``counters``), reading Prometheus's text format (``exposition``), and the headline numbers
``fraudguard stack status`` shows (``summary``). Flink's Prometheus reporter serves them with
Flink's own metrics; see docs/operations.md, metrics."""

from fraudguard.metrics.counters import InMemoryGroup, JobMetrics
from fraudguard.metrics.exposition import Sample, fetch, parse_text
from fraudguard.metrics.summary import JobMetricsSummary

__all__ = ["InMemoryGroup", "JobMetrics", "JobMetricsSummary", "Sample", "fetch", "parse_text"]
