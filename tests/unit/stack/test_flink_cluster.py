"""The local Flink cluster's configuration, environment and status, without starting it."""

from __future__ import annotations

from pathlib import Path

import yaml

from fraudguard.config import Settings
from fraudguard.stack.flink_cluster import (
    ClusterPaths,
    FlinkCluster,
    cluster_configuration,
    flink_home,
)

SHIPPED = {"env.java.opts.all": "--add-opens=java.base/java.lang=ALL-UNNAMED",
           "jobmanager.bind-host": "localhost", "taskmanager.numberOfTaskSlots": 1}  # fmt: skip


def test_every_address_is_loopback_and_state_stays_under_the_home(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    conf = cluster_configuration(settings, ClusterPaths(tmp_path, "local"), SHIPPED)
    addresses = {key: value for key, value in conf.items()
                 if key.endswith((".address", ".bind-host", ".bind-address", ".host"))}  # fmt: skip
    assert set(addresses.values()) == {"127.0.0.1"}, addresses
    assert {"jobmanager.bind-host", "taskmanager.bind-host", "rest.bind-address"} <= set(addresses)
    assert conf["taskmanager.numberOfTaskSlots"] == "2"
    assert conf["env.java.opts.all"] == SHIPPED["env.java.opts.all"]
    assert conf["env.java.opts.taskmanager"] == " ".join(settings.flink.jvm_options)
    assert conf["state.backend.type"] == "rocksdb"
    for key in ("execution.checkpointing.dir", "execution.checkpointing.savepoint-dir"):
        assert conf[key].startswith(tmp_path.as_uri())
    for key in ("io.tmp.dirs", "blob.storage.directory", "web.tmpdir"):
        assert Path(conf[key]).is_relative_to(tmp_path)
    assert conf["metrics.reporter.prom.port"] == "9250"


def test_no_reporter_when_metrics_are_off(tmp_path: Path) -> None:
    settings = Settings.model_validate({"home": tmp_path, "cluster": {"metrics_port": None}})
    conf = cluster_configuration(settings, ClusterPaths(tmp_path, "local"), SHIPPED)
    assert not any(key.startswith("metrics.reporter") for key in conf)


def test_the_written_file_is_flinks_yaml_with_the_distributions_module_flags(
    tmp_path: Path,
) -> None:
    cluster = FlinkCluster(Settings(home=tmp_path))
    cluster.write_configuration(cluster.configuration_text())
    written = yaml.safe_load((cluster.paths.conf_dir / "config.yaml").read_text())
    shipped = yaml.safe_load((flink_home() / "conf" / "config.yaml").read_text())
    assert written["env.java.opts.all"] == shipped["env"]["java"]["opts"]["all"]
    assert written["rest.port"] == "8081"
    assert (cluster.paths.conf_dir / "log4j-console.properties").exists()
    assert (cluster.paths.conf_dir / "log4j-cli.properties").exists()


def test_the_environment_puts_pyflinks_runtime_on_the_cluster_classpath(tmp_path: Path) -> None:
    env = FlinkCluster(Settings(home=tmp_path)).environment()
    assert env["FLINK_CONF_DIR"] == str(tmp_path / "flink" / "cluster" / "local" / "conf")
    assert env["FLINK_LOG_DIR"] == str(tmp_path / "logs" / "flink-cluster" / "local")
    assert "JVM_ARGS" not in env
    assert any(Path(jar).name.startswith("flink-python-") for jar in
               env["HADOOP_CLASSPATH"].split(":"))  # fmt: skip


def test_status_of_a_cluster_that_never_started(tmp_path: Path) -> None:
    settings = Settings.model_validate({"home": tmp_path, "cluster": {"rest_port": 1}})
    status = FlinkCluster(settings).status()
    assert not status.running
    assert (status.jobmanager_pid, status.taskmanager_pids, status.jobs) == (None, [], [])
    assert "jobmanager   stopped" in str(status)
