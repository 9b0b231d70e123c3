"""The Flink execution environment FraudGuard jobs run in, built from :class:`Settings`."""

from __future__ import annotations

import os
import site
from pathlib import Path

from fraudguard.config import MetricsSettings, Settings
from fraudguard.errors import JobError
from fraudguard.jvm import job_jars

REPORTER_FACTORY = "io.fraudguard.metrics.AddressBoundPrometheusReporterFactory"
"""Flink's Prometheus reporter on one address (``jvm/metrics``): Flink's own binds them all."""


def flink_configuration(settings: Settings, restore_from: Path | None = None) -> dict[str, str]:
    """Flink options for the scoring job.

    Checkpoints are retained on cancellation so a killed or stopped job resumes from its last
    completed checkpoint; ``restore_from`` names that checkpoint (a ``chk-N`` folder).

    >>> import tempfile
    >>> home = Path(tempfile.mkdtemp())
    >>> (home / "lib" / "flink").mkdir(parents=True)
    >>> (home / "lib" / "flink" / "connector.jar").touch()
    >>> conf = flink_configuration(Settings(home=home))
    >>> conf["execution.checkpointing.mode"], conf["python.execution-mode"]
    ('EXACTLY_ONCE', 'thread')
    >>> conf["pipeline.object-reuse"]
    'true'
    >>> conf["metrics.reporter.prom.host"], conf["metrics.reporter.prom.port"]
    ('127.0.0.1', '9249')
    """
    flink = settings.flink
    jars = job_jars(settings)
    if not jars:
        raise JobError(
            f"the project's jars are not built under {settings.lib_dir / 'flink'}: run `make jvm`"
        )
    conf = {
        "parallelism.default": str(flink.parallelism),
        "pipeline.auto-watermark-interval": f"{flink.watermark_interval_ms} ms",
        "pipeline.name": flink.job_name,
        "pipeline.jars": ";".join(jar.resolve().as_uri() for jar in jars),
        "execution.checkpointing.interval": f"{flink.checkpoint_interval_ms} ms",
        "execution.checkpointing.mode": "EXACTLY_ONCE",
        "execution.checkpointing.dir": checkpoint_root(settings).resolve().as_uri(),
        "execution.checkpointing.externalized-checkpoint-retention": "RETAIN_ON_CANCELLATION",
        "execution.checkpointing.num-retained": "3",
        "execution.checkpointing.min-pause": f"{min(500, flink.checkpoint_interval_ms)} ms",
        "execution.checkpointing.timeout": "2 min",
        "state.backend.type": flink.state_backend,
        "execution.checkpointing.incremental": str(flink.state_backend == "rocksdb").lower(),
        # The event-time timers of waiting payments: a few hundred milliseconds' worth at any
        # time, set and fired once per payment in each step; on the heap, not in RocksDB.
        "state.backend.rocksdb.timer-service.factory": "HEAP",
        "restart-strategy.type": "fixed-delay",
        "restart-strategy.fixed-delay.attempts": str(flink.restart_attempts),
        "restart-strategy.fixed-delay.delay": f"{flink.restart_delay_ms} ms",
        # Without these, PyFlink starts workers with whatever `python` is on PATH and restarts
        # forever without a word when that interpreter lacks our packages.
        "python.executable": flink.python_executable,
        "python.client.executable": flink.python_executable,
        "python.execution-mode": flink.execution_mode,
        "python.fn-execution.bundle.size": str(flink.bundle_size),
        "python.fn-execution.bundle.time": str(flink.bundle_time_ms),
        "execution.buffer-timeout.interval": f"{flink.buffer_timeout_ms} ms",
        "taskmanager.memory.managed.fraction": "0.1",
        # No operator of the job keeps or changes a record once it has passed it on, so chained
        # operators can share it: without this Flink deep-copies every record at every chained
        # edge (each 2 KB decision, each transaction with its features).
        "pipeline.object-reuse": "true",
    }
    if flink.remote is None or on_this_machine(flink.remote):
        # Thread mode embeds the interpreter in the JVM, which does not see a virtualenv's
        # site-packages unless told: without this the job dies on `No module named 'pemja'`.
        # A cluster on loopback (`fraudguard cluster up`) runs on this machine and sees them.
        conf["python.pythonpath"] = os.pathsep.join(local_python_path())
    if flink.remote is None and settings.metrics.enabled:
        # A cluster reports through its own configuration.
        conf.update(reporter_configuration(settings.metrics))
    if restore_from is not None:
        conf["execution.state-recovery.path"] = restore_from.resolve().as_uri()
    return conf


def on_this_machine(address: str) -> bool:
    """Whether a cluster's ``host:port`` is on loopback, so its TaskManagers see this
    machine's virtualenv and sources.

    >>> on_this_machine("127.0.0.1:8081"), on_this_machine("jobmanager:8081")
    (True, False)
    """
    host = address.rsplit(":", 1)[0]
    return host in {"127.0.0.1", "localhost", "::1", "[::1]"}


def reporter_configuration(metrics: MetricsSettings, name: str = "prom") -> dict[str, str]:
    """Flink options of the local job's Prometheus reporter, named ``name``.

    Label values are kept as they are (Flink would turn ``xgb-1.2`` into ``xgb_1_2`` and
    ``+Inf`` into ``_Inf``): the text format escapes what needs it.
    """
    prefix = f"metrics.reporter.{name}."
    return {
        f"{prefix}factory.class": REPORTER_FACTORY,
        f"{prefix}host": metrics.host,
        f"{prefix}port": str(metrics.port),
        f"{prefix}filterLabelValueCharacters": "false",
    }


def local_python_path() -> list[str]:
    """This interpreter's site-packages plus the folder that holds the fraudguard package."""
    import fraudguard

    package_parent = str(Path(fraudguard.__file__).resolve().parents[1])
    return [package_parent, *site.getsitepackages()]


def checkpoint_root(settings: Settings) -> Path:
    """Where this job's checkpoints live: one folder per job name, one per run below it."""
    return settings.checkpoint_dir / settings.flink.job_name


def latest_checkpoint(settings: Settings) -> Path | None:
    """The newest completed checkpoint of this job (its ``_metadata`` is written last)."""
    root = checkpoint_root(settings)
    if not root.exists():
        return None
    completed = [meta.parent for meta in root.glob("*/chk-*/_metadata")]
    if not completed:
        return None
    return max(completed, key=lambda chk: (chk / "_metadata").stat().st_mtime)


def make_environment(settings: Settings, restore_from: Path | None = None):  # type: ignore[no-untyped-def]
    """A StreamExecutionEnvironment: the local mini-cluster, or the cluster `flink run` gives."""
    from pyflink.common import Configuration
    from pyflink.datastream import StreamExecutionEnvironment

    config = Configuration()
    for key, value in flink_configuration(settings, restore_from).items():
        config.set_string(key, value)
    return StreamExecutionEnvironment.get_execution_environment(config)
