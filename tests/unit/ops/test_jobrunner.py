"""Why a job that died while starting died, in words a user can act on; a start that hangs is
started again; the job's JVM gets its metric reporter, and its endpoint is found again."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from fraudguard.config import FlinkSettings, MetricsSettings, Settings
from fraudguard.errors import JobError, MetricsError
from fraudguard.flink.environment import checkpoint_root
from fraudguard.ops.jobrunner import (
    JobRunner,
    job_environment,
    python_operators_opening,
    running_jobs,
    with_metrics_port,
)

if TYPE_CHECKING:
    from tests.unit.conftest import RecordedEndpoint


def runner_with_log(tmp_path: Path, log: str, restored: str) -> JobRunner:
    runner = JobRunner(Settings(home=tmp_path))
    runner.job_dir.mkdir(parents=True, exist_ok=True)
    runner.log_path.parent.mkdir(parents=True, exist_ok=True)
    runner.log_path.write_text(log)
    (runner.job_dir / "started_at").write_text("0")
    (runner.job_dir / "restored_from").write_text(restored)
    return runner


def test_a_checkpoint_of_an_older_job_version_says_to_start_fresh(tmp_path: Path) -> None:
    runner = runner_with_log(
        tmp_path,
        "Caused by: java.lang.IllegalStateException: Failed to rollback to checkpoint ... "
        "Cannot map checkpoint/savepoint state for operator d66 to the new program",
        "/x/chk-13",
    )
    with pytest.raises(JobError, match=r"cannot resume from /x/chk-13.*--fresh"):
        runner.wait_running(timeout_s=5)


def test_any_other_exit_points_at_the_log(tmp_path: Path) -> None:
    runner = runner_with_log(tmp_path, "ImportError: no module named pemja", "")
    with pytest.raises(JobError, match="exited during start-up; see .*log"):
        runner.wait_running(timeout_s=5)


class StuckOnce(JobRunner):
    """A job whose first start hangs (no checkpoint, ever) and whose restart checkpoints at
    once: the real processes replaced, only the waiting logic is under test."""

    def __init__(self, settings: Settings, hangs: int = 1, hung: bool | None = True) -> None:
        super().__init__(settings)
        self.hangs = hangs
        self.hung = hung
        self.starts = self.kills = 0

    def start_up_hung(self) -> bool | None:
        if self.hung is False:
            # Busy with something else, not hung: its checkpoint comes, only later.
            self._checkpoint()
        return self.hung

    def _checkpoint(self) -> Path:
        chk = checkpoint_root(self.settings) / f"run{self.starts}" / "chk-1"
        chk.mkdir(parents=True, exist_ok=True)
        (chk / "_metadata").write_text("done")
        return chk

    def pid(self) -> int | None:
        return 1  # alive throughout

    def kill_hard(self) -> None:
        self.kills += 1

    def start(self, detached: bool = True, fresh: bool = False) -> Any:
        self.starts += 1
        self.job_dir.mkdir(parents=True, exist_ok=True)
        (self.job_dir / "started_at").write_text(str(time.time() - 0.01))
        if self.starts > self.hangs:
            self._checkpoint()
        return None


@pytest.mark.parametrize(
    ("hung", "starts", "kills", "log"),
    [
        (True, 2, 1, "seen in its threads"),
        # No jcmd, say: the old rule, a restart.
        (None, 2, 1, "could not be read"),
        # Restoring a large state, say: no Python operator is stuck opening, so no restart.
        (False, 1, 0, None),
    ],
    ids=["the-hang", "cannot-tell", "busy-otherwise"],
)
def test_a_start_without_a_checkpoint_is_started_again_only_when_hung(
    tmp_path: Path, hung: bool | None, starts: int, kills: int, log: str | None
) -> None:
    runner = StuckOnce(Settings(home=tmp_path), hung=hung)
    runner.start()
    chk = runner.wait_running(timeout_s=10, stuck_after_s=0.5)
    assert (runner.starts, runner.kills, chk.parent.name) == (starts, kills, f"run{starts}")
    if log is None:
        assert not runner.log_path.exists()
    else:
        assert "start-up hang" in runner.log_path.read_text()
        assert log in runner.log_path.read_text()


HUNG_DUMP = (Path(__file__).parents[2] / "data" / "hung_thread_dump.txt").read_text()


def test_the_hang_is_read_from_a_thread_dump() -> None:
    # Trimmed from `jstack` of a hung run on 2026-11-26 (docs/operations.md, known problems).
    assert python_operators_opening(HUNG_DUMP) == [
        "Source: transactions -> batch-transactions -> validate -> (unbatch-valid) (1/1)#0",
        "exploration (1/1)#0",
    ]
    # A running job's Python operators are past their set-up: processing, not opening.
    running = HUNG_DUMP.replace(".openPythonInterpreter(", ".processElement(")
    assert python_operators_opening(running) == []


def test_restarts_are_bounded_and_then_the_wait_fails(tmp_path: Path) -> None:
    runner = StuckOnce(Settings(home=tmp_path), hangs=10)
    runner.start()
    with pytest.raises(JobError, match="no checkpoint within"):
        runner.wait_running(timeout_s=3, stuck_after_s=0.5, restarts=2)
    assert (runner.starts, runner.kills) == (3, 2)


def test_running_jobs_names_the_live_ones_only(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    for name, pid in (("alive", os.getpid()), ("dead", 2**22 + 12345), ("junk", "x")):
        (tmp_path / "jobs" / name).mkdir(parents=True)
        (tmp_path / "jobs" / name / "pid").write_text(str(pid))
    (tmp_path / "jobs" / "never-started").mkdir()
    assert running_jobs(settings) == ["alive"]


def test_the_reporters_jars_lead_the_jvms_classpath(tmp_path: Path) -> None:
    reporter = tmp_path / "lib" / "flink" / "reporter"
    reporter.mkdir(parents=True)
    for jar in ("fraudguard-metrics.jar", "flink-metrics-prometheus-2.2.1.jar"):
        (reporter / jar).write_bytes(b"")
    settings = Settings(home=tmp_path)
    env = job_environment(settings, {"HADOOP_CLASSPATH": "/opt/hadoop/*"}, tmp_path / "logs")
    assert env["HADOOP_CLASSPATH"].split(os.pathsep) == [
        str(reporter / "flink-metrics-prometheus-2.2.1.jar"),
        str(reporter / "fraudguard-metrics.jar"),
        "/opt/hadoop/*",
    ]
    off = settings.model_copy(update={"metrics": MetricsSettings(enabled=False)})
    assert "HADOOP_CLASSPATH" not in job_environment(off, {}, tmp_path / "logs")


def test_the_metrics_url_is_the_one_of_the_last_start(tmp_path: Path) -> None:
    runner = JobRunner(Settings(home=tmp_path).isolated("m1"))
    assert runner.metrics_url() is None  # never started
    runner.job_dir.mkdir(parents=True)
    started = with_metrics_port(runner.settings)
    (runner.job_dir / "settings.json").write_text(started.model_dump_json())
    assert runner.settings.metrics.port == 0 and started.metrics.port > 0
    assert runner.metrics_url() == f"http://127.0.0.1:{started.metrics.port}/metrics"


def test_metrics_are_read_for_this_job_only(
    tmp_path: Path, recorded_endpoint: RecordedEndpoint
) -> None:
    for name, served in ((recorded_endpoint.job_name, True), ("another-job", False)):
        settings = Settings(home=tmp_path).model_copy(
            update={
                "flink": FlinkSettings(job_name=name),
                "metrics": MetricsSettings(port=recorded_endpoint.port),
            }
        )
        runner = JobRunner(settings)
        runner.job_dir.mkdir(parents=True)
        (runner.job_dir / "settings.json").write_text(settings.model_dump_json())
        if served:
            assert runner.metrics().dead_letters == {"bad_json": 1.0}
        else:  # the port was someone else's when the job started
            with pytest.raises(MetricsError, match="serves no metric of job another-job"):
                runner.metrics()
