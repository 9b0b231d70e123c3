"""Why a job that died while starting died, in words a user can act on."""

from __future__ import annotations

from pathlib import Path

import pytest

from fraudguard.config import Settings
from fraudguard.errors import JobError
from fraudguard.jobrunner import JobRunner


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
