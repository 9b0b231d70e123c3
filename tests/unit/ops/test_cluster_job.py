"""Submitting to the cluster: what `flink run` is given, and which state a submission resumes."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from fraudguard.config import Settings
from fraudguard.errors import JobError
from fraudguard.flink.environment import checkpoint_root
from fraudguard.ops import cluster_job
from fraudguard.ops.cluster_job import ClusterJob, Submission, latest_state, savepoint_root
from fraudguard.stack.flink_rest import JobOverview, SavepointFailed


def _state(folder: Path, mtime: float) -> Path:
    folder.mkdir(parents=True)
    (folder / "_metadata").write_bytes(b"x")
    os.utime(folder / "_metadata", (mtime, mtime))
    return folder


def test_a_submission_resumes_from_the_newest_checkpoint_or_savepoint(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    assert latest_state(settings) is None
    chk = _state(checkpoint_root(settings) / "run1" / "chk-4", 1000)
    savepoint = _state(savepoint_root(settings) / "savepoint-ab-1", 2000)
    assert latest_state(settings) == savepoint
    newer = _state(checkpoint_root(settings) / "run2" / "chk-9", 3000)
    assert latest_state(settings) == newer
    assert latest_state(settings, since=3000) is None  # all older than a fresh start
    assert chk.exists()


class FlinkRun:
    """Stands in for `bin/flink run`: records the command and prints what Flink prints."""

    def __init__(self, returncode: int = 0) -> None:
        self.returncode = returncode
        self.commands: list[list[str]] = []

    def __call__(self, cmd: list[str], stdout: Any, **kwargs: Any) -> subprocess.CompletedProcess:
        self.commands.append(cmd)
        if self.returncode == 0:
            stdout.write(b"Job has been submitted with JobID 0123456789abcdef0123456789abcdef\n")
        else:
            stdout.write(b"org.apache.flink.client.program.ProgramAbortException: boom\n")
        return subprocess.CompletedProcess(cmd, self.returncode)


@pytest.fixture
def submitting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> tuple[ClusterJob, FlinkRun]:
    flink_run = FlinkRun()
    monkeypatch.setattr(cluster_job.subprocess, "run", flink_run)
    monkeypatch.setattr(cluster_job, "ensure_built", lambda settings: None)
    monkeypatch.setattr(ClusterJob, "current", lambda self: None)
    return ClusterJob(Settings(home=tmp_path)), flink_run


def test_submit_runs_the_job_script_with_the_venvs_python_from_the_newest_state(
    submitting: tuple[ClusterJob, FlinkRun],
) -> None:
    job, flink_run = submitting
    savepoint = _state(savepoint_root(job.settings) / "savepoint-ab-1", 2000)
    submission = job.submit()
    assert submission.job_id == "0123456789abcdef0123456789abcdef"
    assert submission.restored_from == savepoint
    [cmd] = flink_run.commands
    python = job.settings.flink.python_executable
    assert cmd[1:3] == ["run", "--detached"]
    assert cmd[cmd.index("--pyExecutable") + 1] == python
    assert cmd[cmd.index("--pyClientExecutable") + 1] == python
    assert cmd[cmd.index("--fromSavepoint") + 1] == str(savepoint)
    assert cmd[cmd.index("--python") + 1].endswith("jobs/scoring_job.py")
    written = Settings.model_validate_json(Path(cmd[-1]).read_text())
    assert written.flink.remote == "127.0.0.1:8081"


def test_fresh_drops_the_checkpoints_and_never_resumes_older_state(
    submitting: tuple[ClusterJob, FlinkRun],
) -> None:
    job, flink_run = submitting
    _state(checkpoint_root(job.settings) / "run1" / "chk-4", 1000)
    _state(savepoint_root(job.settings) / "savepoint-ab-1", 2000)
    assert job.submit(fresh=True).restored_from is None
    assert not checkpoint_root(job.settings).exists()
    assert job.submit().restored_from is None  # the savepoint predates the fresh start
    assert all("--fromSavepoint" not in cmd for cmd in flink_run.commands)


def test_a_failed_flink_run_is_a_job_error_with_its_output(
    submitting: tuple[ClusterJob, FlinkRun],
) -> None:
    job, flink_run = submitting
    flink_run.returncode = 31
    with pytest.raises(JobError, match="(?s)exit 31.*ProgramAbortException: boom"):
        job.submit()


def test_a_start_up_hang_is_cancelled_and_submitted_again_from_the_same_state(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    job = ClusterJob(Settings(home=tmp_path))
    savepoint = tmp_path / "savepoint-1"
    submitted: list[Path | None] = []
    cancelled: list[str] = []
    waits = iter([cluster_job.StartUpHung("hung"), tmp_path / "chk-1"])

    def submit(fresh: bool = False, restore_from: Path | None = None) -> Submission:
        submitted.append(restore_from)
        return Submission(f"job{len(submitted)}", restore_from)

    def wait_running(job_id: str, timeout_s: float) -> Path:
        outcome = next(waits)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    monkeypatch.setattr(job, "submit", submit)
    monkeypatch.setattr(job, "wait_running", wait_running)
    monkeypatch.setattr(job, "cancel", lambda: cancelled.append("x"))
    submission, chk = job.start(restore_from=savepoint)
    assert (submission.job_id, chk.name) == ("job2", "chk-1")
    assert submitted == [savepoint, savepoint] and cancelled == ["x"]
    assert "hung: cancelling it and submitting it again" in job.log_path.read_text()


def test_a_start_up_hang_that_stays_is_an_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    job = ClusterJob(Settings(home=tmp_path))

    def hung(job_id: str, timeout_s: float) -> Path:
        raise cluster_job.StartUpHung("hung")

    monkeypatch.setattr(job, "submit", lambda **kw: Submission("j", None))
    monkeypatch.setattr(job, "wait_running", hung)
    monkeypatch.setattr(job, "cancel", lambda: None)
    with pytest.raises(cluster_job.StartUpHung):
        job.start(restarts=1)


def test_submit_refuses_while_the_job_runs_on_the_mini_cluster(
    submitting: tuple[ClusterJob, FlinkRun],
) -> None:
    job, flink_run = submitting
    job.job_dir.mkdir(parents=True)
    (job.job_dir / "pid").write_text(str(os.getpid()))  # a live process
    with pytest.raises(JobError, match="runs on the local mini-cluster"):
        job.submit()
    assert flink_run.commands == []


class StoppingRest:
    """Stands in for the REST API during a stop: the first ``failures`` stop-with-savepoints
    fail as Flink's race makes them fail, then one succeeds."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.stops = 0
        self.checkpoint = 7

    def latest_completed_checkpoint(self, job_id: str) -> tuple[int, str]:
        return self.checkpoint, f"file:/x/chk-{self.checkpoint}"

    def stop_with_savepoint(self, job_id: str, directory: str, timeout_s: float) -> str:
        self.stops += 1
        if self.stops <= self.failures:
            raise SavepointFailed(
                "stopping job j with a savepoint failed: PartialFinishingNotSupportedBy"
                "StateException: ... has used UnionListState\n\tat a stack line"
            )
        return f"file:{directory}/savepoint-j-1"

    def wait_state(self, job_id: str, states: set[str], timeout_s: float) -> str:
        return "FINISHED"


def _stopping(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, failures: int
) -> tuple[ClusterJob, StoppingRest, list[int]]:
    job = ClusterJob(Settings(home=tmp_path))
    rest = StoppingRest(failures)
    waited_after: list[int] = []

    def wait_running(job_id: str, timeout_s: float, after_checkpoint: int = 0) -> Path:
        waited_after.append(after_checkpoint)
        rest.checkpoint += 1  # the job failed over and completed a checkpoint
        return tmp_path / f"chk-{rest.checkpoint}"

    monkeypatch.setattr(job, "rest", rest)
    monkeypatch.setattr(job, "current", lambda: JobOverview("j", job.name, "RUNNING", 0))
    monkeypatch.setattr(job, "wait_running", wait_running)
    return job, rest, waited_after


def test_a_refused_stop_is_tried_again_after_the_next_checkpoint(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    job, rest, waited_after = _stopping(monkeypatch, tmp_path, failures=2)
    savepoint = job.stop()
    assert savepoint == savepoint_root(job.settings) / "savepoint-j-1"
    assert rest.stops == 3 and waited_after == [7, 8]
    log = job.log_path.read_text()
    assert "stop-with-savepoint 1 of 3 failed" in log and "2 of 3" in log
    assert "a stack line" not in log  # the reason's first line only


def test_a_stop_refused_every_time_is_the_error_flink_gave(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    job, rest, waited_after = _stopping(monkeypatch, tmp_path, failures=5)
    with pytest.raises(SavepointFailed, match="UnionListState"):
        job.stop(attempts=2)
    assert rest.stops == 2 and waited_after == [7]
