"""The running job's Prometheus endpoint on the real stack: its own metrics agree with what it
wrote to Kafka (decisions read back with read_committed, dead letters from the DLQ topic), and
Flink's metrics are there beside them, on loopback only."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import urlparse

import orjson
import pytest
from click.testing import CliRunner

from fraudguard import cli as root
from fraudguard.config import Settings
from fraudguard.metrics.exposition import Sample, fetch, parse_text
from fraudguard.metrics.names import (
    FLINK_METRICS,
    LABELS_FED,
    LABELS_LATE,
    LABELS_UNUSED,
    LATENCY_BUCKET,
    LATENCY_SUM,
)
from fraudguard.metrics.summary import JobMetricsSummary
from fraudguard.models.registry import ModelRegistry
from fraudguard.ops.jobrunner import JobRunner
from fraudguard.stack.ports import parse_proc_net_tcp
from fraudguard.stack.process import PROC
from fraudguard.streams.kafka import make_producer, read_topic
from fraudguard.streams.tally import DecisionTally
from fraudguard.wire.transactions import format_event_time

if TYPE_CHECKING:
    from tests.integration.conftest import Backlog

pytestmark = pytest.mark.integration


def listening_addresses(port: int) -> set[str]:
    return {
        listener.address
        for name in ("tcp", "tcp6")
        for listener in parse_proc_net_tcp((PROC / "net" / name).read_text())
        if listener.port == port
    }


def scrape_until(
    url: str, job: str, done: Callable[[JobMetricsSummary], bool], timeout_s: float = 30
) -> tuple[list[Sample], JobMetricsSummary]:
    """Scrape until the summary satisfies ``done`` (Flink's own gauges can lag a moment)."""
    deadline = time.monotonic() + timeout_s
    while True:
        samples = parse_text(fetch(url))
        summary = JobMetricsSummary.from_samples(samples, job)
        if done(summary) or time.monotonic() > deadline:
            return samples, summary
        time.sleep(1)


def test_the_job_serves_its_metrics_and_flinks_for_prometheus(
    isolated_settings: Settings, register_model: Callable[..., None], backlog: type[Backlog]
) -> None:
    settings = isolated_settings
    assert settings.metrics.port == 0  # any free port: each test's job has its own
    registry = ModelRegistry.from_settings(settings)
    register_model(registry, "xgb-metrics-1", seed=5)
    registry.promote("xgb-metrics-1")

    ids = backlog.produce(settings, 1500, "m")
    producer = make_producer(settings)
    for raw in (b"{not json", b"[]", b"{also not json", b'{"txn_id": 7}'):
        producer.produce(settings.topics.transactions.name, raw, key=b"card1")
    reported = format_event_time(int(time.time() * 1000) - 120_000)
    label = {"card_id": "card1", "merchant_id": "m1", "terminal_id": "m1-t1",
             "label": "fraud", "reported_at": reported}  # fmt: skip
    for doc in (
        {**label, "txn_id": "earlier-1"}, {**label, "txn_id": "earlier-2"},
        {**label, "txn_id": "earlier-3", "label": "legit"},
        {**label, "txn_id": "earlier-4", "terminal_id": ""},
        {**label, "txn_id": "earlier-5", "reported_at": "last week"},
    ):  # fmt: skip
        producer.produce(settings.topics.labels.name, orjson.dumps(doc), key=b"card1")
    producer.flush(30)

    runner = JobRunner(settings)
    runner.start(detached=True, fresh=True)
    tally = DecisionTally(settings, expected=ids)
    try:
        runner.wait_running(timeout_s=180)
        url = runner.metrics_url()
        assert url is not None
        port = urlparse(url).port
        assert port is not None and port != 9249
        addresses = listening_addresses(port)
        assert addresses and addresses <= {"127.0.0.1", "::ffff:127.0.0.1"}, addresses

        backlog.wait_for(tally, len(ids), timeout_s=180)
        # Once the rest is decided, a card's payment stamped a minute before its newest: it
        # comes behind the watermark, and is decided at once, late.
        stamped = int(time.time() * 1000) - 60_000
        late = {"txn_id": "m-late", "event_time": format_event_time(stamped),
                "card_id": "card5", "customer_id": "cust-late", "merchant_id": "m9",
                "terminal_id": "m9-t1", "amount": 12.5, "currency": "EUR", "mcc": "5411",
                "country": "FR", "channel": "online", "device_id": None}  # fmt: skip
        producer.produce(
            settings.topics.transactions.name, orjson.dumps(late), key="card5", timestamp=stamped
        )
        producer.flush(30)
        ids.append(late["txn_id"])
        tally.add_expected([late["txn_id"]])
        backlog.wait_for(tally, len(ids), timeout_s=60)
        assert tally.decided == len(ids) and tally.duplicates == 0
        job = settings.flink.job_name
        samples, summary = scrape_until(
            url, job, lambda s: sum(s.decisions.values()) >= len(ids) and s.latency_count > 0
        )
        root._register()
        status = CliRunner().invoke(
            root.cli, ["stack", "status"], env={"FRAUDGUARD_FLINK__JOB_NAME": job}
        )
    finally:
        runner.stop()
        tally.close()

    decisions = [orjson.loads(m.value()) for m in read_topic(settings, tally.topic)]
    dead = [orjson.loads(m.value()) for m in read_topic(settings, settings.topics.dlq.name)]
    # The job's counters agree with what it wrote, outcome by outcome.
    assert summary.decisions == {
        outcome: float(tally.by_decision[outcome]) for outcome in ("approve", "review", "block")
    }
    assert sum(summary.decisions.values()) == len(ids)
    assert summary.degraded == sum(d["degraded"] for d in decisions)
    assert summary.late == sum(d["late"] for d in decisions) >= 1
    assert summary.explored == sum(d["explored"] for d in decisions)
    assert summary.dead_letters == dict(Counter(d["reason"] for d in dead))
    assert summary.dead_letters == {"bad_json": 2.0, "not_an_object": 1.0, "missing_field": 1.0}
    assert summary.model_versions == ["xgb-metrics-1"]
    assert summary.threshold_versions == sorted({d["threshold_version"] for d in decisions})

    # Latency: every decision measured once, buckets cumulative, quantiles in range. The
    # payments were produced before the job started, so most waited for it.
    mine = [s for s in samples if s.labels.get("job_name") == job]
    by_bound: Counter[float] = Counter()  # summed over the decision step's subtasks
    for s in mine:
        if s.name == LATENCY_BUCKET.prometheus_name:
            by_bound[float(s.labels["le"])] += s.value
    counts = [by_bound[bound] for bound in sorted(by_bound)]
    assert counts == sorted(counts) and counts[-1] == len(ids) == summary.latency_count
    assert summary.latency_p50_ms is not None and summary.latency_p99_ms is not None
    assert 0 < summary.latency_p50_ms <= summary.latency_p99_ms < 600_000
    latency_sum = sum(s.value for s in mine if s.name == LATENCY_SUM.prometheus_name)
    assert latency_sum / len(ids) < 600_000

    # The labels the feature steps were fed, and the ones they were not, by reason.
    labelled = Counter[tuple[str, str]]()
    for s in mine:
        if s.name in (LABELS_FED.prometheus_name, LABELS_UNUSED.prometheus_name):
            labelled[s.name, s.labels.get("reason", "")] += s.value
    assert labelled == {
        (LABELS_FED.prometheus_name, ""): 2,
        (LABELS_UNUSED.prometheus_name, "bad_label"): 1,
        (LABELS_UNUSED.prometheus_name, "legit"): 1,
        (LABELS_UNUSED.prometheus_name, "no_entities"): 1,
    }
    assert any(s.name == LABELS_LATE.prometheus_name for s in mine)

    # Flink's own metrics, the dashboard's, are there for this job.
    served = {s.name for s in mine}
    assert set(FLINK_METRICS) <= served, sorted(set(FLINK_METRICS) - served)
    checkpoints = "flink_jobmanager_job_numberOfCompletedCheckpoints"
    assert [s.value >= 1 for s in mine if s.name == checkpoints] == [True]
    written = [s for s in mine if s.name == "flink_taskmanager_job_task_operator_numRecordsIn"
               and s.labels.get("operator_name") == "decisions-sink: Writer"]  # fmt: skip
    assert written and sum(s.value for s in written) == len(ids)

    # `fraudguard stack status` read the same endpoint (nothing changed it since: every
    # transaction was decided) and showed its summary.
    print(status.output)
    assert status.exit_code == 0, status.output
    shown = [line.strip() for line in status.output.splitlines()]
    assert f"job {job}: running, metrics at {url}" in shown
    assert all(line in shown for line in str(summary).splitlines()), str(summary)
