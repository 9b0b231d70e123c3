"""Start, watch and stop the scoring job on the local mini-cluster.

The job runs as its own process group (the Python driver and the Flink JVM it launches), so a
stop or a hard kill reaches both. A start resumes from the job's newest completed checkpoint
unless told to start fresh.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from fraudguard.config import Settings
from fraudguard.errors import JobError, MetricsError
from fraudguard.flink.environment import checkpoint_root, latest_checkpoint
from fraudguard.jvm import ensure_built, reporter_jars
from fraudguard.metrics.exposition import fetch, parse_text
from fraudguard.metrics.summary import JobMetricsSummary
from fraudguard.stack.ports import free_port
from fraudguard.stack.process import cmdline, read_pid

JOB_SCRIPT = "jobs/scoring_job.py"
STUCK_AFTER_S = 60.0
"""A run without a completed checkpoint this long after its start is looked at for the
start-up hang. A healthy start completes its first checkpoint in about 10 s on this machine
(2 s checkpoints), 20 s with a large state to restore."""
PYTHON_OPEN_FRAME = "openPythonInterpreter"
"""The frame where the start-up hang holds the Python operators' task threads (docs/operations.md,
known problems): Flink's set-up of an operator's embedded interpreter, which normally takes well
under a second, so a thread still in it a minute after the start is stuck."""
logger = logging.getLogger(__name__)


def python_operators_opening(thread_dump: str) -> list[str]:
    r"""The threads of a JVM thread dump (``jcmd PID Thread.print``, or ``jstack``) that are
    inside a Python operator's interpreter set-up.

    >>> python_operators_opening(
    ...     '"decide (1/1)#0" #100 runnable\n\tat pemja.core.PythonInterpreter.exec(Native Method)'
    ...     "\n\tat org.apache.flink.Op.openPythonInterpreter(Op.java:125)\n\n"
    ...     '"card-features (1/1)#0" #97 waiting\n\tat jdk.internal.misc.Unsafe.park(Native Method)'
    ... )
    ['decide (1/1)#0']
    """
    opening = []
    for block in thread_dump.split("\n\n"):
        head = block.lstrip("\n")
        if head.startswith('"') and f".{PYTHON_OPEN_FRAME}(" in block:
            opening.append(head[1 : head.index('"', 1)])
    return opening


def thread_dump(pid: int, timeout_s: float = 20.0) -> str | None:
    """The JVM ``pid``'s thread dump from ``jcmd``; None when there is no ``jcmd`` (a JRE) or
    it fails."""
    try:
        done = subprocess.run(
            ["jcmd", str(pid), "Thread.print"], capture_output=True, text=True, timeout=timeout_s
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def job_environment(
    settings: Settings, environ: Mapping[str, str], flink_log_dir: Path
) -> dict[str, str]:
    """The job process's environment: ``environ`` plus where Flink logs, the JVM options and
    the Prometheus reporter's jars.

    PyFlink's launcher starts the JVM with ``JVM_ARGS``; the settings' options come first so
    that the caller's own, appended, can add to them. The mini-cluster loads metric reporters
    from the JVM's classpath, and the only entry to it that PyFlink's local launcher reads is
    ``HADOOP_CLASSPATH``: the reporter's jars go first in it
    (docs/decisions/0007-prometheus-metrics.md).

    >>> settings = Settings.model_validate({"flink": {"jvm_options": ["-XX:+UseParallelGC"]}})
    >>> env = job_environment(settings, {"JVM_ARGS": "-Xmx2g"}, Path("/tmp/logs"))
    >>> env["JVM_ARGS"], env["FLINK_LOG_DIR"]
    ('-XX:+UseParallelGC -Xmx2g', '/tmp/logs')
    """
    env = dict(environ)
    env["FLINK_LOG_DIR"] = str(flink_log_dir)
    jvm_args = " ".join([*settings.flink.jvm_options, environ.get("JVM_ARGS", "")]).strip()
    if jvm_args:
        env["JVM_ARGS"] = jvm_args
    if settings.metrics.enabled and settings.flink.remote is None:
        jars = [str(jar) for jar in reporter_jars(settings)]
        if jars:
            env["HADOOP_CLASSPATH"] = os.pathsep.join(
                [*jars, environ.get("HADOOP_CLASSPATH", "")]
            ).rstrip(os.pathsep)
    return env


def with_metrics_port(settings: Settings) -> Settings:
    """``settings`` with a free port for the job's metrics when they ask for any (port 0).

    >>> Settings().metrics.port == with_metrics_port(Settings()).metrics.port == 9249
    True
    >>> with_metrics_port(Settings().isolated("x")).metrics.port > 0
    True
    """
    metrics = settings.metrics
    if metrics.port != 0 or not metrics.enabled:
        return settings
    port = free_port(metrics.host)
    return settings.model_copy(update={"metrics": metrics.model_copy(update={"port": port})})


@dataclass(frozen=True)
class JobStatus:
    name: str
    running: bool
    pid: int | None
    latest_checkpoint: Path | None
    log: Path

    def __str__(self) -> str:
        state = f"running (pid {self.pid})" if self.running else "stopped"
        chk = self.latest_checkpoint or "none"
        return f"job {self.name}: {state}\n  last checkpoint: {chk}\n  log: {self.log}"


class JobRunner:
    """Lifecycle of one named scoring job (``settings.flink.job_name``)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.job_dir = settings.job_dir
        self.pidfile = self.job_dir / "pid"
        self.log_path = settings.logs_dir / f"{settings.flink.job_name}.log"
        # The Flink JVM's own log (Java operators log here), one folder per job: a shared
        # folder let the next job overwrite the log of one that had just failed.
        self.flink_log_dir = settings.logs_dir / "flink" / settings.flink.job_name

    def pid(self) -> int | None:
        """The job's process-group leader, if it is alive."""
        return _live_pid(self.pidfile)

    def metrics_url(self) -> str | None:
        """Where the job's Prometheus reporter serves, from the settings of its last start
        (which hold the port chosen when any was asked for); None before a start, when the
        reporter is off, or on a cluster, which reports through its own configuration."""
        try:
            started = Settings.model_validate_json((self.job_dir / "settings.json").read_text())
        except (OSError, ValueError):
            return None
        metrics = started.metrics
        if not metrics.enabled or started.flink.remote is not None:
            return None
        return f"http://{metrics.host}:{metrics.port}/metrics"

    def metrics(self, timeout_s: float = 3.0) -> JobMetricsSummary:
        """The job's headline numbers, read from its reporter now."""
        url = self.metrics_url()
        if url is None:
            raise MetricsError(f"job {self.settings.flink.job_name} has no metrics endpoint")
        name = self.settings.flink.job_name
        samples = parse_text(fetch(url, timeout_s))
        if not any(sample.labels.get("job_name") == name for sample in samples):
            # Another process held the port when the job started: the job runs without an
            # endpoint (its Flink log says "Could not instantiate MetricReporter").
            raise MetricsError(f"{url} serves no metric of job {name}; see {self.flink_log_dir}")
        return JobMetricsSummary.from_samples(samples, name)

    def status(self) -> JobStatus:
        pid = self.pid()
        return JobStatus(
            self.settings.flink.job_name,
            pid is not None,
            pid,
            latest_checkpoint(self.settings),
            self.log_path,
        )

    def start(self, detached: bool = True, fresh: bool = False) -> subprocess.Popen[bytes]:
        """Launch the job; resume from the newest checkpoint unless ``fresh``."""
        if (pid := self.pid()) is not None:
            raise JobError(f"job {self.settings.flink.job_name} is already running (pid {pid})")
        ensure_built(self.settings)  # the job's jars, when a source changed or none are built
        restore = None if fresh else latest_checkpoint(self.settings)
        if fresh:
            shutil.rmtree(checkpoint_root(self.settings), ignore_errors=True)
        else:
            prune_old_runs(self.settings, keep=restore)
        self.job_dir.mkdir(parents=True, exist_ok=True)
        self.settings.logs_dir.mkdir(parents=True, exist_ok=True)
        settings_file = self.job_dir / "settings.json"
        settings_file.write_text(with_metrics_port(self.settings).model_dump_json(indent=2))
        cmd = [
            self.settings.flink.python_executable,
            str(self.settings.project_root / JOB_SCRIPT),
            "--settings",
            str(settings_file),
        ]
        if restore is not None:
            cmd += ["--restore-from", str(restore)]
        env = job_environment(self.settings, os.environ, self.flink_log_dir)
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child process
        log.write(f"\n=== start {time.strftime('%Y-%m-%dT%H:%M:%S')} {cmd}\n".encode())
        log.flush()
        proc = subprocess.Popen(
            cmd,
            stdout=log if detached else None,
            stderr=subprocess.STDOUT if detached else None,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env=env,
            cwd=self.settings.project_root,
        )
        log.close()
        self.pidfile.write_text(str(proc.pid))
        (self.job_dir / "started_at").write_text(str(time.time()))
        (self.job_dir / "restored_from").write_text(str(restore or ""))
        return proc

    def wait_running(
        self, timeout_s: float = 120.0, stuck_after_s: float = STUCK_AFTER_S, restarts: int = 2
    ) -> Path:
        """Block until this run completed a checkpoint: proof every task is up and consuming.

        PyFlink now and then leaves the Python operators initializing for good (docs/operations.md,
        known problems), and then no checkpoint ever completes. A run still alive without one
        ``stuck_after_s`` after its start is looked at (:meth:`start_up_hung`): when a Python
        operator is still setting up its interpreter, or when that cannot be told, the run is
        killed and started again, resuming from the newest checkpoint as any restart does (so
        nothing is lost or repeated), at most ``restarts`` times; each restart is written to
        the job's log. A run busy with something else (restoring a large state, say) is left
        alone and looked at again ``stuck_after_s`` later. ``timeout_s`` counts from the call.
        """
        started = float((self.job_dir / "started_at").read_text())
        deadline = time.monotonic() + timeout_s
        stuck_at = time.monotonic() + max(0.0, stuck_after_s - (time.time() - started))
        while time.monotonic() < deadline:
            if self.pid() is None:
                raise JobError(self._why_it_exited())
            chk = latest_checkpoint(self.settings)
            if chk is not None and (chk / "_metadata").stat().st_mtime > started:
                return chk
            if restarts > 0 and time.monotonic() >= stuck_at:
                hung = self.start_up_hung()
                if hung is False:
                    stuck_at = time.monotonic() + stuck_after_s
                    continue
                restarts -= 1
                seen = "seen in its threads" if hung else "its threads could not be read"
                self._note(
                    f"no checkpoint {stuck_after_s:.0f} s after the start, the start-up hang "
                    f"({seen}; docs/operations.md, known problems): killing the job and starting "
                    "it again"
                )
                self.kill_hard()
                self.start(detached=True)  # from the newest checkpoint, like any restart
                started = float((self.job_dir / "started_at").read_text())
                stuck_at = time.monotonic() + stuck_after_s
                deadline = max(deadline, stuck_at + 1.0)
            time.sleep(0.5)
        raise JobError(f"no checkpoint within {timeout_s:.0f}s of start; see {self.log_path}")

    def start_up_hung(self) -> bool | None:
        """Whether this run shows the start-up hang: a task thread of its JVM still inside a
        Python operator's interpreter set-up. None when that cannot be told (no JVM found, no
        ``jcmd``)."""
        jvm = job_jvm(self.pid())
        dump = None if jvm is None else thread_dump(jvm)
        return None if dump is None else bool(python_operators_opening(dump))

    def _note(self, message: str) -> None:
        note_in_log(self.log_path, self.settings.flink.job_name, message)

    def _why_it_exited(self) -> str:
        try:
            with self.log_path.open("rb") as f:
                f.seek(max(0, self.log_path.stat().st_size - 200_000))
                tail = f.read().decode(errors="replace")
        except OSError:
            tail = ""
        restored = (self.job_dir / "restored_from").read_text().strip()
        if "Cannot map checkpoint/savepoint state" in tail and restored:
            return (
                f"the job cannot resume from {restored}: its operators changed since that "
                "checkpoint (a new version of the job). Start it without the old state: "
                "`fraudguard job run --fresh --detached`"
            )
        return f"the job exited during start-up; see {self.log_path}"

    def stop(self, timeout_s: float = 30.0) -> bool:
        """Stop the job (SIGTERM, then SIGKILL); checkpoints stay for the next start."""
        pid = self.pid()
        if pid is None:
            self.pidfile.unlink(missing_ok=True)
            return False
        _signal_group(pid, signal.SIGTERM)
        if not _wait_gone(pid, timeout_s):
            _signal_group(pid, signal.SIGKILL)
            _wait_gone(pid, 10)
        self.pidfile.unlink(missing_ok=True)
        return True

    def kill_hard(self) -> None:
        """SIGKILL the driver and the Flink JVM at once: a crash, not a cancel."""
        pid = self.pid()
        if pid is None:
            raise JobError("the job is not running")
        _signal_group(pid, signal.SIGKILL)
        _wait_gone(pid, 10)


def note_in_log(log_path: Path, job_name: str, message: str) -> None:
    """A line of what the runner did in the job's log (where each start and submission is
    written), and a warning in the runner's own log."""
    logger.warning("%s: %s", job_name, message)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "a") as out:
        out.write(f"=== {time.strftime('%Y-%m-%dT%H:%M:%S')} {message}\n")


def prune_old_runs(settings: Settings, keep: Path | None) -> None:
    """Delete the checkpoint folders of runs older than the one ``keep`` belongs to.

    Each run writes checkpoints under a new job id; the run a start resumes from and anything
    newer stay, so the folder does not grow without bound."""
    root = checkpoint_root(settings)
    if keep is None or not root.exists() or root not in keep.parents:
        return
    keep_run = keep.parent
    cutoff = keep_run.stat().st_mtime
    for run in root.iterdir():
        if run.is_dir() and run != keep_run and run.stat().st_mtime < cutoff:
            shutil.rmtree(run, ignore_errors=True)


def running_jobs(settings: Settings) -> list[str]:
    """The names of this home's jobs whose process is alive (any name, not only the settings'
    own), sorted: what else shares the machine's cores.

    >>> running_jobs(Settings(home=Path("/nonexistent")))
    []
    """
    jobs = settings.job_dir.parent  # every job's folder sits beside this one's
    return [pidfile.parent.name for pidfile in sorted(jobs.glob("*/pid")) if _live_pid(pidfile)]


def _live_pid(pidfile: Path) -> int | None:
    """The process a job's pid file names, if it is alive."""
    pid = read_pid(pidfile)
    return pid if pid is not None and _alive(pid) else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0); it is gone for our purposes.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass


def _wait_gone(pid: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            # Reap it if it is our child, so it does not linger as a zombie.
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        if not _alive(pid) and not _group_alive(pid):
            return True
        time.sleep(0.2)
    return False


def _group_alive(pgid: int) -> bool:
    return bool(group_members(pgid))


def job_jvm(pgid: int | None) -> int | None:
    """The Java process of a job's process group ``pgid`` (the Flink JVM its driver launched),
    or None.

    >>> job_jvm(None) is None
    True
    """
    if pgid is None:
        return None
    for member in group_members(pgid):
        if (cmdline(member) or "").split(" ")[0].endswith("java"):
            return member
    return None


def group_members(pgid: int) -> list[int]:
    """The live (not zombie) processes of process group ``pgid``: a job's driver and its JVM."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().split(")")[-1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        # fields: state, ppid, pgrp, ...
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(entry.name))
    return members
