"""Flink configuration and checkpoint discovery, without starting Flink."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from fraudguard.config import FlinkSettings, MetricsSettings, Settings
from fraudguard.errors import JobError
from fraudguard.flink.environment import checkpoint_root, flink_configuration, latest_checkpoint


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    (tmp_path / "lib" / "flink").mkdir(parents=True)
    (tmp_path / "lib" / "flink" / "connector.jar").write_bytes(b"")
    return Settings(
        home=tmp_path, flink=FlinkSettings(job_name="j1", python_executable="/x/python")
    )


def test_python_workers_use_the_configured_interpreter(settings: Settings) -> None:
    conf = flink_configuration(settings)
    assert conf["python.executable"] == "/x/python"
    assert conf["python.client.executable"] == "/x/python"


def test_checkpoints_are_exactly_once_and_retained(settings: Settings) -> None:
    conf = flink_configuration(settings)
    assert conf["execution.checkpointing.mode"] == "EXACTLY_ONCE"
    assert (
        conf["execution.checkpointing.externalized-checkpoint-retention"]
        == "RETAIN_ON_CANCELLATION"
    )
    assert conf["pipeline.jars"].endswith("connector.jar")
    assert "execution.state-recovery.path" not in conf


def test_restart_strategy_is_bounded(settings: Settings) -> None:
    conf = flink_configuration(settings)
    assert conf["restart-strategy.type"] == "fixed-delay"
    assert int(conf["restart-strategy.fixed-delay.attempts"]) >= 1


def test_restore_path_is_passed_to_flink(settings: Settings, tmp_path: Path) -> None:
    conf = flink_configuration(settings, restore_from=tmp_path / "chk-3")
    assert conf["execution.state-recovery.path"].endswith("chk-3")


def test_unbuilt_jars_are_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(JobError, match="make jvm"):
        flink_configuration(Settings(home=tmp_path))


def test_latest_checkpoint_is_the_newest_completed_one(settings: Settings) -> None:
    root = checkpoint_root(settings)
    assert latest_checkpoint(settings) is None
    old = root / "run-a" / "chk-7"
    new = root / "run-b" / "chk-2"
    unfinished = root / "run-b" / "chk-3"  # no _metadata yet: still being written
    for chk in (old, new, unfinished):
        chk.mkdir(parents=True)
    (old / "_metadata").write_bytes(b"x")
    (new / "_metadata").write_bytes(b"x")
    past = time.time() - 100
    os.utime(old / "_metadata", (past, past))
    assert latest_checkpoint(settings) == new


def test_the_local_job_reports_on_loopback_with_labels_kept(settings: Settings) -> None:
    conf = flink_configuration(settings)
    assert conf["metrics.reporter.prom.factory.class"] == (
        "io.fraudguard.metrics.AddressBoundPrometheusReporterFactory"
    )
    assert (conf["metrics.reporter.prom.host"], conf["metrics.reporter.prom.port"]) == (
        "127.0.0.1", "9249"
    )  # fmt: skip
    assert conf["metrics.reporter.prom.filterLabelValueCharacters"] == "false"


def test_no_reporter_when_off_or_on_a_cluster(settings: Settings) -> None:
    off = settings.model_copy(update={"metrics": MetricsSettings(enabled=False)})
    remote = settings.model_copy(
        update={"flink": settings.flink.model_copy(update={"remote": "jm:8081"})}
    )
    for conf in (flink_configuration(off), flink_configuration(remote)):
        assert not any(key.startswith("metrics.reporter.") for key in conf)


def test_the_latency_profile_shortens_every_wait_and_keeps_what_was_set(tmp_path: Path) -> None:
    (tmp_path / "lib" / "flink").mkdir(parents=True)
    (tmp_path / "lib" / "flink" / "connector.jar").write_bytes(b"")
    throughput = flink_configuration(Settings(home=tmp_path))
    flink = FlinkSettings.model_validate({"profile": "latency", "checkpoint_interval_ms": 5000})
    latency = flink_configuration(Settings(home=tmp_path, flink=flink))
    assert throughput["execution.buffer-timeout.interval"] == "100 ms"
    assert latency["execution.buffer-timeout.interval"] == "2 ms"
    assert (
        throughput["python.fn-execution.bundle.time"],
        latency["python.fn-execution.bundle.time"],
    ) == ("50", "2")
    assert (throughput["state.backend.type"], latency["state.backend.type"]) == (
        "rocksdb",
        "hashmap",
    )
    assert latency["execution.checkpointing.interval"] == "5000 ms"
    assert (flink.batch_delay_ms, flink.sink_linger_ms) == (2, 0)
    # Settings from the environment, as an entry point reads them: an explicit value wins.
    env = Settings.from_env(
        {"FRAUDGUARD_FLINK__PROFILE": "latency", "FRAUDGUARD_FLINK__BATCH_DELAY_MS": "7"}
    )
    assert (env.flink.batch_delay_ms, env.flink.buffer_timeout_ms) == (7, 2)
    assert env.flink.with_profile("throughput").buffer_timeout_ms == 100


def test_a_cluster_on_loopback_sees_this_machines_python_and_one_elsewhere_does_not(
    settings: Settings,
) -> None:
    def on(remote: str) -> dict[str, str]:
        flink = settings.flink.model_copy(update={"remote": remote})
        return flink_configuration(settings.model_copy(update={"flink": flink}))

    assert (
        on("127.0.0.1:8081")["python.pythonpath"]
        == flink_configuration(settings)["python.pythonpath"]
    )
    assert "python.pythonpath" not in on("jobmanager:8081")
