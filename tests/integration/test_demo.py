"""`fraudguard demo` run twice on the real stack: the second run's history overlaps the first's,
so its job starts without state rather than deciding that history late."""

from __future__ import annotations

import orjson
import pytest

from fraudguard.config import Settings
from fraudguard.ops.demo import run_demo
from fraudguard.ops.jobrunner import JobRunner
from fraudguard.streams.kafka import read_topic

pytestmark = pytest.mark.integration


def test_a_demo_run_again_decides_its_history_on_time(isolated_settings: Settings) -> None:
    settings, limit = isolated_settings, 4_000
    lines: list[str] = []
    try:
        first = run_demo(settings, limit, rate=0, seed=7, on_status=lines.append,
                         timeout_s=300, bootstrap=False, panel=False, outcomes=False,
                         governor=False)  # fmt: skip
        assert first.job_started and not any("without state" in line for line in lines)
        lines.clear()
        second = run_demo(settings, limit, rate=0, seed=7, on_status=lines.append,
                          timeout_s=300, bootstrap=False, panel=False, outcomes=False,
                          governor=False)  # fmt: skip
    finally:
        JobRunner(settings).stop()
    print(first.line(), *lines, second.line(), sep="\n")
    for summary in (first, second):
        assert summary.transactions > limit // 3, summary.line()  # a history of its days
        assert summary.decisions == summary.transactions
        assert (summary.missing, summary.duplicates, summary.dlq) == (0, 0, 0)
        # A few payments of a backlog can come late (docs/decisions/0009); a job still holding
        # the first run's event clock found nearly every payment of the second run late.
        assert summary.late <= limit // 50, summary.line()
    # The first run's job was still running: the second stopped it and started it afresh, once
    # it had answered every payment, and the fresh job decided none of the first run's again.
    assert second.job_started
    assert any("starts without state" in line for line in lines)
    decisions = read_topic(settings, settings.topics.decisions.name)
    ids = [orjson.loads(message.value())["txn_id"] for message in decisions]
    assert len(ids) == len(set(ids)) == first.transactions + second.transactions
