"""A standalone Flink session cluster from the distribution the pinned PyFlink ships.

One JobManager and one TaskManager, each started in the foreground by the distribution's own
scripts (``bin/jobmanager.sh start-foreground``, ``bin/taskmanager.sh start-foreground``,
which ``exec`` the JVM, so the pid recorded is the JVM's), detached like the stack's other
services. Their configuration is generated into ``flink/cluster/<name>/conf`` under the home
(``FLINK_CONF_DIR``), their logs go to ``logs/flink-cluster/<name>``, and every address binds
loopback. The processes are recognised by the configuration folder on their command line.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from fraudguard.config import ENV_PREFIX, Settings
from fraudguard.errors import StackError
from fraudguard.jvm import reporter_jars
from fraudguard.stack.flink_rest import FlinkRest, JobOverview, TaskManagerInfo
from fraudguard.stack.health import check_java, check_port
from fraudguard.stack.process import (
    cmdline,
    file_lock,
    find_pids,
    is_running,
    spawn_detached,
    tail,
    terminate,
)
from fraudguard.stack.status import Stopped

log = logging.getLogger(__name__)

JOBMANAGER_CLASS = "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint"
TASKMANAGER_CLASS = "org.apache.flink.runtime.taskexecutor.TaskManagerRunner"
REPORTER_FACTORY = "io.fraudguard.metrics.AddressBoundPrometheusReporterFactory"


def flink_home() -> Path:
    """The Flink distribution inside the installed PyFlink (``bin/``, ``lib/``, ``conf/``)."""
    import pyflink

    home = Path(pyflink.__file__).resolve().parent
    if not (home / "bin" / "jobmanager.sh").exists():
        raise StackError(f"no Flink distribution in {home}: reinstall apache-flink (make install)")
    return home


def flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested YAML keys as Flink's flat ones.

    >>> flatten({"env": {"java": {"opts": {"all": "-X"}}}, "a.b": 1})
    {'env.java.opts.all': '-X', 'a.b': 1}
    """
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


@dataclass(frozen=True)
class ClusterPaths:
    """Where one cluster keeps its files, all absolute (they end up on command lines).

    >>> paths = ClusterPaths.from_settings(Settings(home="/srv/fg"))
    >>> str(paths.conf_dir), str(paths.log_dir)
    ('/srv/fg/flink/cluster/local/conf', '/srv/fg/logs/flink-cluster/local')
    """

    home: Path
    name: str

    @classmethod
    def from_settings(cls, settings: Settings) -> ClusterPaths:
        return cls(Path(os.path.abspath(settings.home)), settings.cluster.name)

    @property
    def root(self) -> Path:
        return self.home / "flink" / "cluster" / self.name

    @property
    def conf_dir(self) -> Path:
        return self.root / "conf"

    @property
    def tmp_dir(self) -> Path:
        """Flink's working files: RocksDB's local state, blobs, the web UI's files."""
        return self.root / "tmp"

    @property
    def log_dir(self) -> Path:
        return self.home / "logs" / "flink-cluster" / self.name

    @property
    def run_dir(self) -> Path:
        return self.home / "run" / "flink-cluster" / self.name

    @property
    def lock(self) -> Path:
        return self.run_dir / "cluster.lock"


def cluster_configuration(
    settings: Settings, paths: ClusterPaths, distribution: Mapping[str, Any]
) -> dict[str, str]:
    """The cluster's ``config.yaml`` (flat keys): ``distribution``'s (the shipped file, for the
    Java module flags Flink needs on Java 17) with every address on loopback, the slots, RocksDB
    and the state folders under the home. The job brings its own checkpointing, restart strategy
    and Python options when it is submitted (``flink.environment``).

    >>> conf = cluster_configuration(Settings(home="/srv/fg"), ClusterPaths(Path("/srv/fg"), "x"),
    ...                              {"env.java.opts.all": "--add-opens=a", "rest.port": 1})
    >>> conf["rest.bind-address"], conf["rest.port"], conf["taskmanager.numberOfTaskSlots"]
    ('127.0.0.1', '8081', '2')
    >>> conf["env.java.opts.all"], conf["state.backend.type"]
    ('--add-opens=a', 'rocksdb')
    >>> conf["execution.checkpointing.savepoint-dir"]
    'file:///srv/fg/flink/savepoints'
    """
    cluster, flink = settings.cluster, settings.flink
    conf = {key: str(value) for key, value in distribution.items()}
    conf.update(
        {
            "jobmanager.rpc.address": cluster.host,
            "jobmanager.rpc.port": str(cluster.rpc_port),
            "jobmanager.bind-host": cluster.host,
            "jobmanager.memory.process.size": cluster.jobmanager_memory,
            "jobmanager.execution.failover-strategy": "region",
            "taskmanager.bind-host": cluster.host,
            "taskmanager.host": cluster.host,
            "taskmanager.numberOfTaskSlots": str(cluster.slots),
            "taskmanager.memory.process.size": cluster.taskmanager_memory,
            "taskmanager.memory.managed.fraction": "0.1",
            "rest.address": cluster.host,
            "rest.bind-address": cluster.host,
            "rest.port": str(cluster.rest_port),
            "parallelism.default": str(flink.parallelism),
            "heartbeat.interval": str(cluster.heartbeat_interval_ms),
            "heartbeat.timeout": str(cluster.heartbeat_timeout_ms),
            "state.backend.type": "rocksdb",
            "execution.checkpointing.dir": (settings.checkpoint_dir).resolve().as_uri(),
            "execution.checkpointing.savepoint-dir": settings.savepoint_dir.resolve().as_uri(),
            "io.tmp.dirs": str(paths.tmp_dir),
            "blob.storage.directory": str(paths.tmp_dir / "blobs"),
            "web.tmpdir": str(paths.tmp_dir / "web"),
            # Jobs come through `flink run` (the REST job submission), never as uploaded jars.
            "web.submit.enable": "false",
            "env.java.opts.taskmanager": " ".join(flink.jvm_options),
        }
    )
    if cluster.metrics_port is not None:
        prefix = "metrics.reporter.prom."
        conf.update(
            {
                f"{prefix}factory.class": REPORTER_FACTORY,
                f"{prefix}host": cluster.host,
                f"{prefix}port": str(cluster.metrics_port),
                f"{prefix}filterLabelValueCharacters": "false",
            }
        )
    return conf


def render_log4j(distribution_conf: Path) -> str:
    """The console scripts' log4j file: the distribution's daemon one (a size-rolled file and
    nothing on the console, which would only repeat the file in the ``.out`` file)."""
    return (distribution_conf / "log4j.properties").read_text()


@dataclass(frozen=True)
class ClusterStatus:
    """What ``fraudguard cluster status`` shows."""

    rest_url: str
    jobmanager_pid: int | None
    taskmanager_pids: list[int]
    answers: bool
    taskmanagers: list[TaskManagerInfo] = field(default_factory=list)
    jobs: list[JobOverview] = field(default_factory=list)
    log_dir: Path | None = None

    @property
    def running(self) -> bool:
        return self.jobmanager_pid is not None and self.answers

    def __str__(self) -> str:
        """
        >>> print(ClusterStatus("http://127.0.0.1:8081", 7, [8], True,
        ...       [TaskManagerInfo("tm-1", 2, 1)], [JobOverview("ab", "fg", "RUNNING", 0)]))
        Flink cluster at http://127.0.0.1:8081
          jobmanager   running  pid 7
          taskmanager  running  pid 8
          registered taskmanagers: tm-1 (slots 2, free 1)
          job fg  RUNNING  ab
        """
        jm = f"running  pid {self.jobmanager_pid}" if self.jobmanager_pid else "stopped"
        lines = [f"Flink cluster at {self.rest_url}", f"  jobmanager   {jm}"]
        if not self.taskmanager_pids:
            lines.append("  taskmanager  stopped")
        lines += [f"  taskmanager  running  pid {pid}" for pid in self.taskmanager_pids]
        if self.jobmanager_pid is not None and not self.answers:
            lines.append("  the REST API does not answer (starting, or stuck: see the log)")
        if self.answers:
            listed = ", ".join(
                f"{tm.resource_id} (slots {tm.slots}, free {tm.free_slots})"
                for tm in self.taskmanagers
            )
            lines.append(f"  registered taskmanagers: {listed or 'none'}")
            lines += [f"  job {job.name}  {job.state}  {job.job_id}" for job in self.jobs]
        if self.log_dir is not None:
            lines.append(f"  logs: {self.log_dir}")
        return "\n".join(lines)


class FlinkCluster:
    """The session cluster of ``settings.cluster`` under ``settings.home``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.cluster = settings.cluster
        self.paths = ClusterPaths.from_settings(settings)
        self.rest = FlinkRest(self.cluster.rest_url)

    # -- processes -------------------------------------------------------------------------

    def _pids(self, main_class: str) -> list[int]:
        needle = f"--configDir {self.paths.conf_dir}"
        return [
            pid for pid in find_pids(str(self.paths.conf_dir))
            if main_class in (line := cmdline(pid) or "") and needle in line
        ]  # fmt: skip

    def jobmanager_pid(self) -> int | None:
        found = self._pids(JOBMANAGER_CLASS)
        return found[0] if found else None

    def taskmanager_pids(self) -> list[int]:
        return self._pids(TASKMANAGER_CLASS)

    def environment(self) -> dict[str, str]:
        """The environment of the cluster's scripts and of ``flink run`` against it.

        PyFlink's runtime (``opt/flink-python``) and the reporter's jars (``jvm/metrics``)
        reach the JVMs' classpath through ``HADOOP_CLASSPATH``, which the distribution's
        scripts append to it. PyFlink's runtime must be there, not in each job's classes: the
        JobManager could not read a submitted Python job without it (``ClassNotFoundException:
        EmbeddedPythonProcessOperator``), and the embedded interpreter's native library loads
        once per JVM, not once per job.
        """
        env = dict(os.environ)
        env.update(
            {
                "FLINK_CONF_DIR": str(self.paths.conf_dir),
                "FLINK_LOG_DIR": str(self.paths.log_dir),
                "FLINK_PID_DIR": str(self.paths.run_dir),
                "FLINK_IDENT_STRING": "fraudguard",
                # No plugins: the distribution's Prometheus plugin would be a second copy of
                # the reporter classes that HADOOP_CLASSPATH brings (below).
                "FLINK_PLUGINS_DIR": str(self.paths.root / "plugins"),
            }
        )
        env.pop("JVM_ARGS", None)  # the local job's; the cluster's come from its config.yaml
        jars = sorted((flink_home() / "opt").glob("flink-python-*.jar"))
        if self.cluster.metrics_port is not None:
            jars += reporter_jars(self.settings)
        env["HADOOP_CLASSPATH"] = os.pathsep.join(str(jar) for jar in jars)
        return env

    def configuration_text(self) -> str:
        """The cluster's ``config.yaml``, from these settings and the shipped file."""
        shipped = yaml.safe_load((flink_home() / "conf" / "config.yaml").read_text()) or {}
        conf = cluster_configuration(self.settings, self.paths, flatten(shipped))
        text = "# Written by `fraudguard cluster up`; edits are overwritten at the next start.\n"
        return text + yaml.safe_dump(conf, sort_keys=True, width=10_000)

    def write_configuration(self, text: str) -> None:
        """Write ``config.yaml`` and the log4j files into the cluster's ``FLINK_CONF_DIR``."""
        distribution_conf = flink_home() / "conf"
        self.paths.conf_dir.mkdir(parents=True, exist_ok=True)
        (self.paths.conf_dir / "config.yaml").write_text(text)
        log4j = render_log4j(distribution_conf)
        for name in ("log4j-console.properties", "log4j.properties"):
            (self.paths.conf_dir / name).write_text(log4j)
        shutil.copy(distribution_conf / "log4j-cli.properties", self.paths.conf_dir)

    def _start(self, script: str, out_name: str, *args: str) -> int:
        argv = [str(flink_home() / "bin" / script), "start-foreground", *args]
        out = self.paths.log_dir / out_name
        return spawn_detached(argv, out, self.paths.root, env=self.environment())

    # -- lifecycle -------------------------------------------------------------------------

    def up(self) -> ClusterStatus:
        """Start the JobManager when it does not run and a TaskManager when none runs, and
        wait until the REST API answers and a running TaskManager is registered. Idempotent:
        after a TaskManager died, it brings one back."""
        with file_lock(self.paths.lock):
            paths = self.paths
            for folder in (paths.log_dir, paths.run_dir, paths.tmp_dir, paths.root / "plugins"):
                folder.mkdir(parents=True, exist_ok=True)
            jm = self.jobmanager_pid()
            text = self.configuration_text()
            written = self.paths.conf_dir / "config.yaml"
            if jm is not None and (not written.exists() or written.read_text() != text):
                raise StackError(
                    f"the Flink cluster (JobManager pid {jm}) runs with other settings than "
                    "these; run `fraudguard cluster down` first"
                )
            deadline = time.monotonic() + self.cluster.start_timeout_s
            if jm is None:
                check_java()
                self.write_configuration(text)
                ports = ((self.cluster.rest_port, "REST"), (self.cluster.rpc_port, "RPC"))
                for port, what in ports:
                    setting = f"{ENV_PREFIX}CLUSTER__{what}_PORT"
                    service = f"Flink JobManager {what}"
                    check_port(port, self.cluster.host, service, set(), paths.home, setting=setting)
                log.info("starting the Flink JobManager on %s", self.cluster.rest_url)
                jm = self._start("jobmanager.sh", "jobmanager.out", *self._metrics_args(1))
            self._wait_rest(jm, deadline)
            if not self.taskmanager_pids():
                resource_id = f"{self.cluster.name}-tm-{uuid.uuid4().hex[:8]}"
                log.info("starting a Flink TaskManager (%s)", resource_id)
                tm = self._start(
                    "taskmanager.sh", "taskmanager.out",
                    "-D", f"taskmanager.resource-id={resource_id}", *self._metrics_args(0),
                )  # fmt: skip
                self._wait_registered(tm, resource_id, deadline)
            else:
                self._wait_any_registered(deadline)
        return self.status()

    def _metrics_args(self, offset: int) -> list[str]:
        if self.cluster.metrics_port is None:
            return []
        return ["-D", f"metrics.reporter.prom.port={self.cluster.metrics_port + offset}"]

    def _wait_rest(self, pid: int, deadline: float) -> None:
        while not self.rest.answers():
            if not is_running(pid):
                raise StackError(f"the Flink JobManager exited while starting:\n{self._tail()}")
            if time.monotonic() > deadline:
                raise StackError(
                    f"the Flink JobManager (pid {pid}) did not answer on {self.cluster.rest_url} "
                    f"within {self.cluster.start_timeout_s:.0f} s; see {self.paths.log_dir}"
                )
            time.sleep(0.2)

    def _wait_registered(self, pid: int, resource_id: str, deadline: float) -> None:
        while True:
            registered = {tm.resource_id for tm in self.rest.taskmanagers()}
            if resource_id in registered:
                return
            if not is_running(pid):
                raise StackError(
                    f"the Flink TaskManager exited while starting:\n{self._tail('taskexecutor')}"
                )
            if time.monotonic() > deadline:
                raise StackError(
                    f"the Flink TaskManager {resource_id} (pid {pid}) did not register within "
                    f"{self.cluster.start_timeout_s:.0f} s; see {self.paths.log_dir}"
                )
            time.sleep(0.2)

    def _wait_any_registered(self, deadline: float) -> None:
        while not self.rest.taskmanagers():
            if time.monotonic() > deadline:
                raise StackError(
                    f"no TaskManager registered with {self.cluster.rest_url}; "
                    f"see {self.paths.log_dir}"
                )
            time.sleep(0.2)

    def _tail(self, service: str = "standalonesession") -> str:
        logs = sorted(self.paths.log_dir.glob(f"*-{service}-*.log"))
        return "\n".join(tail(path) for path in logs) or tail(self.paths.log_dir / "jobmanager.out")

    def down(self, timeout_s: float = 30.0) -> list[Stopped]:
        """Stop the TaskManagers, then the JobManager. Jobs on it end without a savepoint
        (their retained checkpoints stay); stop them first to keep a savepoint."""
        stopped: list[Stopped] = []
        with file_lock(self.paths.lock):
            for name, pids in (
                ("flink-taskmanager", self.taskmanager_pids()),
                ("flink-jobmanager", [p for p in [self.jobmanager_pid()] if p is not None]),
            ):
                if pids:
                    forced = terminate(pids, timeout_s)
                    stopped += [Stopped(name, pid, forced[pid]) for pid in pids]
        return stopped

    def status(self) -> ClusterStatus:
        jm = self.jobmanager_pid()
        answers = jm is not None and self.rest.answers()
        taskmanagers: list[TaskManagerInfo] = []
        jobs: list[JobOverview] = []
        if answers:
            try:
                taskmanagers, jobs = self.rest.taskmanagers(), self.rest.jobs()
            except StackError:
                answers = False
        return ClusterStatus(
            self.cluster.rest_url, jm, self.taskmanager_pids(), answers, taskmanagers, jobs,
            self.paths.log_dir,
        )  # fmt: skip
