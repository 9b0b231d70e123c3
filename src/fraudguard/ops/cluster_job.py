"""The scoring job on the local Flink session cluster: submit, watch, stop with a savepoint,
upgrade.

The same ``jobs/scoring_job.py`` as on the mini-cluster goes through the distribution's
``bin/flink run --detached --python``, with the virtualenv's interpreter for the client and
the TaskManager's Python, and the job's settings file. A cluster job is found by its name
(``flink.job_name``) through the REST API. A submission resumes from the newest state the job
left (a retained checkpoint after a crash, the savepoint of a ``stop``), unless ``fresh``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from fraudguard.config import Settings
from fraudguard.errors import JobError
from fraudguard.flink.environment import checkpoint_root
from fraudguard.jvm import ensure_built
from fraudguard.ops.jobrunner import (
    JOB_SCRIPT,
    STUCK_AFTER_S,
    JobRunner,
    note_in_log,
    prune_old_runs,
    python_operators_opening,
    thread_dump,
)
from fraudguard.stack.flink_cluster import FlinkCluster, flink_home
from fraudguard.stack.flink_rest import JobOverview, SavepointFailed
from fraudguard.stack.process import tail

_JOB_ID = re.compile(r"JobID ([0-9a-f]{32})")


def savepoint_root(settings: Settings) -> Path:
    """Where this job's savepoints go: one folder per job name."""
    return settings.savepoint_dir / settings.flink.job_name


def local_path(location: str) -> Path:
    """A state's path from the ``file:`` URI Flink reports.

    >>> local_path("file:/srv/fg/flink/savepoints/j/savepoint-ab12"), local_path("/x/chk-3")
    (PosixPath('/srv/fg/flink/savepoints/j/savepoint-ab12'), PosixPath('/x/chk-3'))
    """
    if location.startswith("file:"):
        return Path(unquote(urlparse(location).path))
    return Path(location)


def latest_state(settings: Settings, since: float = 0.0) -> Path | None:
    """The job's newest completed checkpoint or savepoint written after ``since`` (a time):
    what a submission resumes from."""
    found = [
        *checkpoint_root(settings).glob("*/chk-*/_metadata"),
        *savepoint_root(settings).glob("savepoint-*/_metadata"),
    ]
    fresh = [meta for meta in found if meta.stat().st_mtime > since]
    if not fresh:
        return None
    return max(fresh, key=lambda meta: meta.stat().st_mtime).parent


class StartUpHung(JobError):
    """A submitted job's Python operators never finished setting up their interpreter."""


@dataclass(frozen=True)
class Submission:
    job_id: str
    restored_from: Path | None


class ClusterJob:
    """The job named ``settings.flink.job_name`` on the cluster of ``settings.cluster``."""

    def __init__(self, settings: Settings) -> None:
        cluster = settings.cluster
        flink = settings.flink.model_copy(update={"remote": f"{cluster.host}:{cluster.rest_port}"})
        self.settings = settings.model_copy(update={"flink": flink})
        self.cluster = FlinkCluster(settings)
        self.rest = self.cluster.rest
        self.job_dir = settings.job_dir
        self.log_path = settings.logs_dir / f"{settings.flink.job_name}.log"

    @property
    def name(self) -> str:
        return self.settings.flink.job_name

    def current(self) -> JobOverview | None:
        """The job of this name that runs (or restarts) on the cluster, if any."""
        active = [job for job in self.rest.jobs() if job.name == self.name and job.active]
        return active[0] if active else None

    def resume_point(self) -> Path | None:
        """The state a submission without ``fresh`` resumes from: the newest checkpoint or
        savepoint written since the last fresh start."""
        marker = self.job_dir / "fresh_at"
        since = float(marker.read_text()) if marker.exists() else 0.0
        return latest_state(self.settings, since)

    def submit(self, fresh: bool = False, restore_from: Path | None = None) -> Submission:
        """Submit the job, resuming from ``restore_from``, else from the newest state it left
        since its last fresh start, unless ``fresh`` (which deletes its checkpoints; savepoints
        stay, but are no longer resumed from)."""
        if (running := self.current()) is not None:
            raise JobError(f"job {self.name} already runs on the cluster ({running.job_id})")
        if (pid := JobRunner(self.settings).pid()) is not None:
            # Both would write the same checkpoints and Kafka transactions.
            raise JobError(f"job {self.name} runs on the local mini-cluster (pid {pid})")
        ensure_built(self.settings)
        self.job_dir.mkdir(parents=True, exist_ok=True)
        fresh_marker = self.job_dir / "fresh_at"
        if fresh:
            shutil.rmtree(checkpoint_root(self.settings), ignore_errors=True)
            fresh_marker.write_text(str(time.time()))
            restore = restore_from
        else:
            restore = restore_from or self.resume_point()
            prune_old_runs(self.settings, keep=restore)
        settings_file = self.job_dir / "settings.json"
        settings_file.write_text(self.settings.model_dump_json(indent=2))
        python = self.settings.flink.python_executable
        cmd = [
            str(flink_home() / "bin" / "flink"), "run", "--detached",
            "--pyClientExecutable", python, "--pyExecutable", python,
        ]  # fmt: skip
        if restore is not None:
            cmd += ["--fromSavepoint", str(restore)]
        cmd += ["--python", str(self.settings.project_root / JOB_SCRIPT)]
        cmd += ["--settings", str(settings_file)]
        self.settings.logs_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            log.write(f"\n=== submit {time.strftime('%Y-%m-%dT%H:%M:%S')} {cmd}\n".encode())
            log.flush()
            try:
                done = subprocess.run(
                    cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                    env=self.cluster.environment(), cwd=self.settings.project_root, timeout=300,
                )  # fmt: skip
            except subprocess.TimeoutExpired as exc:
                raise JobError(f"`flink run` did not return in 300 s; see {self.log_path}") from exc
        output = tail(self.log_path, 60)
        found = _JOB_ID.findall(output)
        if done.returncode != 0 or not found:
            raise JobError(
                f"`flink run` failed (exit {done.returncode}); see {self.log_path}:\n"
                + tail(self.log_path, 20)
            )
        (self.job_dir / "cluster_job_id").write_text(found[-1])
        (self.job_dir / "started_at").write_text(str(time.time()))
        (self.job_dir / "restored_from").write_text(str(restore or ""))
        return Submission(found[-1], restore)

    def wait_running(
        self,
        job_id: str,
        timeout_s: float = 180.0,
        after_checkpoint: int = 0,
        stuck_after_s: float = STUCK_AFTER_S,
    ) -> Path:
        """Block until the job runs and completed a checkpoint numbered above
        ``after_checkpoint``: every task is up and consuming. The job failing, or no such
        checkpoint within ``timeout_s``, is a JobError with Flink's reason. A run without a
        checkpoint ``stuck_after_s`` after this call is looked at for the start-up hang
        (docs/operations.md, known problems) and said to show it."""
        deadline = time.monotonic() + timeout_s
        stuck_at = time.monotonic() + stuck_after_s
        state = "unknown"
        while time.monotonic() < deadline:
            state = self.rest.job(job_id).state
            if state in {"FAILED", "CANCELED", "FINISHED"}:
                cause = self.rest.root_exception(job_id) or "no exception recorded"
                raise JobError(f"job {self.name} ({job_id}) is {state}: {cause}")
            latest = self.rest.latest_completed_checkpoint(job_id)
            if state == "RUNNING" and latest is not None and latest[0] > after_checkpoint:
                return local_path(latest[1])
            if time.monotonic() >= stuck_at and self.start_up_hung():
                raise StartUpHung(
                    f"job {self.name} ({job_id}) shows the start-up hang (a Python operator "
                    "still setting up its interpreter; docs/operations.md, known problems)"
                )
            time.sleep(0.5)
        cause = self.rest.root_exception(job_id) or "no exception recorded"
        raise JobError(
            f"job {self.name} ({job_id}) is {state} without a new checkpoint after "
            f"{timeout_s:.0f} s; last failure: {cause}; logs in {self.cluster.paths.log_dir}"
        )

    def start(
        self,
        fresh: bool = False,
        restore_from: Path | None = None,
        timeout_s: float = 180.0,
        restarts: int = 2,
    ) -> tuple[Submission, Path]:
        """Submit the job and wait until it runs (:meth:`submit`, :meth:`wait_running`); the
        submission and its first checkpoint. A run showing the start-up hang is cancelled and
        submitted again from the same state, at most ``restarts`` times, as
        :meth:`JobRunner.wait_running <fraudguard.ops.jobrunner.JobRunner.wait_running>`
        does on the mini-cluster; each time is written to the job's log."""
        submission = self.submit(fresh=fresh, restore_from=restore_from)
        while True:
            try:
                return submission, self.wait_running(submission.job_id, timeout_s)
            except StartUpHung as exc:
                if restarts == 0:
                    raise
                restarts -= 1
                self._log(f"{exc}: cancelling it and submitting it again")
                self.cancel()
                # A fresh start has written nothing to resume since; a restore resumes again.
                submission = self.submit(restore_from=submission.restored_from)

    def _log(self, line: str) -> None:
        note_in_log(self.log_path, self.name, line)

    def start_up_hung(self) -> bool:
        """Whether a TaskManager's task thread is still inside a Python operator's set-up."""
        for pid in self.cluster.taskmanager_pids():
            dump = thread_dump(pid)
            if dump is not None and python_operators_opening(dump):
                return True
        return False

    def stop(self, timeout_s: float = 180.0, attempts: int = 3) -> Path:
        """Stop the running job with a savepoint; the savepoint's folder. Its Kafka
        transactions are committed with the savepoint, and the next submission resumes
        from it.

        Flink can refuse a stop-with-savepoint by a race of its own: when one reader's tasks
        stopped before the savepoint reached the other, the union state of the event clock
        (``newest-read``) may not be taken from part of them, and the savepoint fails. The job
        then fails over to its last checkpoint and runs on; the stop is tried again once it has
        completed a new checkpoint, at most ``attempts`` times."""
        job = self.current()
        if job is None:
            raise JobError(f"job {self.name} does not run on the cluster")
        target = savepoint_root(self.settings)
        target.mkdir(parents=True, exist_ok=True)
        for attempt in range(1, attempts + 1):
            latest = self.rest.latest_completed_checkpoint(job.job_id)
            try:
                location = self.rest.stop_with_savepoint(job.job_id, str(target), timeout_s)
                break
            except SavepointFailed as exc:
                if attempt == attempts:
                    raise
                reason = str(exc).splitlines()[0][:500]
                self._log(f"stop-with-savepoint {attempt} of {attempts} failed: {reason}")
                after = latest[0] if latest else 0
                self.wait_running(job.job_id, timeout_s, after_checkpoint=after)
        self.rest.wait_state(job.job_id, {"FINISHED"}, timeout_s=60)
        return local_path(location)

    def cancel(self, timeout_s: float = 60.0) -> str | None:
        """Cancel the running job without a savepoint (its retained checkpoints stay); its id,
        or None when none ran."""
        job = self.current()
        if job is None:
            return None
        self.rest.cancel(job.job_id)
        self.rest.wait_state(job.job_id, {"CANCELED", "FAILED", "FINISHED"}, timeout_s)
        return job.job_id

    def upgrade(self, timeout_s: float = 180.0) -> tuple[Path, Submission]:
        """Stop the job with a savepoint and submit the code as it is now from it; the
        savepoint and the new submission, running (a checkpoint completed)."""
        savepoint = self.stop(timeout_s)
        try:
            submission, _ = self.start(restore_from=savepoint, timeout_s=timeout_s)
        except JobError as exc:
            raise JobError(
                f"the new code did not start from savepoint {savepoint}: {exc}. The savepoint "
                "stays: submit the previous code from it (`fraudguard job submit --from "
                f"{savepoint}`), or start without state (`fraudguard job submit --fresh`)"
            ) from exc
        return savepoint, submission
