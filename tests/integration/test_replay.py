"""`fraudguard replay run` on the real stack: a foreign file (the Handbook's layout, payments
from 2018 that the production job's wall clock would refuse as stale) replayed through a job of
its own in a namespace; every payment decided once, the same decisions as the offline backtest
of the same file, a report, production's topics untouched, and `replay down` removing it all."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from fraudguard.cli.backtest import backtest
from fraudguard.cli.replay import replay
from fraudguard.config import Settings
from fraudguard.replay.namespace import namespaced, namespaces
from fraudguard.stack.topics import make_admin, topic_partitions
from fraudguard.streams.kafka import end_offsets

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "tests/data/replay/handbook.csv"
MAPPING = ROOT / "replay/mappings/handbook.yaml"


def production_offsets(settings: Settings) -> dict[str, dict[int, int]]:
    names = topic_partitions(make_admin(settings))
    return {t.name: end_offsets(settings, t.name) for t in settings.topics.all() if t.name in names}


def decided(folder: Path) -> dict[str, dict]:
    columns = ["txn_id", "decision", "score", "tier", "features"]
    rows = pq.read_table(folder / "decisions.parquet").select(columns).to_pylist()
    return {r["txn_id"]: r for r in rows}


def test_a_foreign_file_replays_through_a_job_of_its_own(
    isolated_settings: Settings, tmp_path: Path
) -> None:
    settings = isolated_settings
    name = f"t{uuid.uuid4().hex[:8]}"
    before = production_offsets(settings)
    runner = CliRunner()
    result = runner.invoke(replay, ["run", str(SOURCE), "--mapping", str(MAPPING),
                                    "--namespace", name, "--speed", "max",
                                    "--out", str(tmp_path / "replay")], obj=settings)  # fmt: skip
    try:
        assert result.exit_code == 0, result.output + repr(result.exception)
        summary = json.loads((tmp_path / "replay/summary.json").read_text())
        assert summary["transactions"] == 300 and summary["decisions"] == 300
        assert summary["duplicates"] == 0 and summary["dead_letters"] == 0
        # the fixture's 3 days end before its labels (reported 7 days on): none is sent, all 9
        # are immature at the replay's end (release on the clock: replay_order's doctest)
        assert (summary["labels_sent"], summary["labels_after_end"]) == (0, 9)
        report = json.loads((tmp_path / "replay/report/report.json").read_text())
        assert report["configs"][0]["outcome"]["transactions"] == 300
        assert report["labels"]["immature"] == summary["labels_after_end"]
        assert (tmp_path / "replay/report/report.html").stat().st_size > 0
        assert production_offsets(settings) == before, "a replay touched production's topics"
        assert name in namespaces(settings)

        # the offline backtest of the same file decides the same, decision by decision
        args = [str(SOURCE), "--mapping", str(MAPPING), "--out", str(tmp_path / "bt")]
        offline = runner.invoke(backtest, args, obj=settings)
        assert offline.exit_code == 0, offline.output
        live, back = (decided(tmp_path / f) for f in ("replay", "bt"))
        assert live.keys() == back.keys()
        differ = [t for t in live if live[t] != back[t]]
        assert not differ, f"{len(differ)} differ, e.g. {live[differ[0]]} != {back[differ[0]]}"
    finally:
        down = runner.invoke(replay, ["down", name], obj=settings)
    assert down.exit_code == 0, down.output
    ns = namespaced(settings, name)
    topics = len({spec.name for spec in ns.topics.all()})
    assert f"{topics} topics deleted" in down.output and "NOT deleted" not in down.output
    assert name not in namespaces(settings)
    assert not ns.job_dir.exists()


def test_a_used_namespace_is_refused(isolated_settings: Settings, tmp_path: Path) -> None:
    from fraudguard.errors import ConfigError
    from fraudguard.replay.live import run_replay
    from fraudguard.stack.topics import create_topics
    from fraudguard.streams.kafka import make_producer

    name = f"u{uuid.uuid4().hex[:8]}"
    ns = namespaced(isolated_settings, name)
    create_topics(ns)
    producer = make_producer(ns)
    producer.produce(ns.topics.transactions.name, value=b"{}")
    producer.flush(10)
    try:
        with pytest.raises(ConfigError, match="already holds 1 transactions"):
            run_replay(isolated_settings, tmp_path / "none.jsonl", None, name, None, tmp_path)
    finally:
        CliRunner().invoke(replay, ["down", name], obj=isolated_settings)
