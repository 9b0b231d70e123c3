"""docker-compose.yml passes Docker Compose's own `config` and has the shape of the local
stack: Kafka in KRaft mode with the project's topics, Redis with its append-only file, a Flink
JobManager and TaskManager running the scoring job, the panel on PostgreSQL, and Prometheus.
Nothing here starts a container: no Docker engine is needed, and none is used."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

import click
import pytest
from sqlalchemy.engine import make_url

from fraudguard.config import PROJECT_ROOT, Settings
from fraudguard.stack.kafka import render_server_properties
from fraudguard.stack.layout import StackPaths

Service = dict[str, Any]
RunCompose = Callable[..., subprocess.CompletedProcess[str]]

SHAPE = {"kafka", "topics", "redis", "jobmanager", "taskmanager", "job", "postgres", "panel",
         "prometheus"}  # fmt: skip
# The project's image: these run `fraudguard`, Flink's scripts or the job from ./Dockerfile.
PROJECT_IMAGE = {"topics", "jobmanager", "taskmanager", "job", "panel"}
ONE_SHOT = {"topics", "job"}
HOME = PurePosixPath("/app/.fraudguard")
"""Settings.home inside the image (the project is installed at /app)."""


def settings_of(service: Service) -> Settings:
    """The settings a FraudGuard service builds from its environment, as the CLI does (unknown
    or misspelled FRAUDGUARD_* variables are refused)."""
    return Settings.from_env(service.get("environment") or {})


def mounts(service: Service) -> dict[str, str]:
    """Target path -> named volume (or host path) of each of the service's mounts."""
    return {m["target"]: m["source"] for m in service.get("volumes", [])}


def volume_holding(service: Service, path: PurePosixPath) -> str | None:
    """The volume mounted at ``path`` or at a folder above it, if any."""
    for target, source in mounts(service).items():
        if path == PurePosixPath(target) or PurePosixPath(target) in path.parents:
            return source
    return None


def test_config_passes_quietly(run_compose: RunCompose) -> None:
    done = run_compose("config", "--quiet")
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""


def test_config_refuses_to_run_without_the_database_password(run_compose: RunCompose) -> None:
    done = run_compose("config", "--quiet", extra_env={})
    assert done.returncode != 0
    assert "FRAUDGUARD_DB_PASSWORD" in done.stderr


def test_every_piece_of_the_architecture_is_a_service(services: dict[str, Service]) -> None:
    assert SHAPE <= set(services), f"missing: {sorted(SHAPE - set(services))}"


def test_kafka_runs_in_kraft_mode_as_the_local_stack_configures_it(
    services: dict[str, Service], tmp_path: Path
) -> None:
    kafka = services["kafka"]
    env = kafka["environment"]
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"{env['KAFKA_NODE_ID']}@kafka:9093"
    assert not any("ZOOKEEPER" in key for key in env)
    # The apache/kafka image reads KAFKA_A_B as a.b: the broker settings `stack up` writes
    # (src/fraudguard/stack/kafka.py) hold here too, but for the addresses and the data folder.
    local = dict(
        line.split("=", 1)
        for line in render_server_properties(Settings(), StackPaths(tmp_path)).splitlines()
        if "=" in line
    )
    per_host = {"listeners", "advertised.listeners", "controller.quorum.voters",
                "listener.security.protocol.map", "log.dirs"}  # fmt: skip
    broker = {key[6:].lower().replace("_", "."): value for key, value in env.items()}
    assert {k: broker.get(k) for k in local if k not in per_host} == {
        k: v for k, v in local.items() if k not in per_host
    }
    assert volume_holding(kafka, PurePosixPath(env["KAFKA_LOG_DIRS"])) == "kafka-data"


def test_kafka_image_is_the_brokers_pinned_version(services: dict[str, Service]) -> None:
    from xml.etree import ElementTree

    pom = ElementTree.parse(PROJECT_ROOT / "deploy" / "kafka" / "pom.xml").getroot()
    version = pom.find("{*}properties/{*}kafka.version")
    assert version is not None
    assert services["kafka"]["image"] == f"apache/kafka:{version.text}"


def test_topics_are_created_once_by_the_projects_own_command(
    services: dict[str, Service],
) -> None:
    topics = services["topics"]
    assert topics["command"] == ["fraudguard", "stack", "topics"]
    assert topics["depends_on"]["kafka"]["condition"] == "service_healthy"
    # It reaches the broker where Kafka advertises itself to the other containers.
    advertised = services["kafka"]["environment"]["KAFKA_ADVERTISED_LISTENERS"]
    assert f"PLAINTEXT://{settings_of(topics).kafka.bootstrap_servers}" in advertised.split(",")


def test_redis_keeps_an_append_only_file_on_a_volume(services: dict[str, Service]) -> None:
    redis = services["redis"]
    command = redis["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert volume_holding(redis, PurePosixPath("/data")) == "redis-data"


@pytest.mark.parametrize(
    ("service", "script"),
    [("jobmanager", "jobmanager.sh"), ("taskmanager", "taskmanager.sh")],
)
def test_flink_cluster_runs_in_the_foreground(
    services: dict[str, Service], service: str, script: str
) -> None:
    assert services[service]["command"] == [f"/opt/flink/bin/{script}", "start-foreground"]


def test_taskmanager_waits_for_its_jobmanager(services: dict[str, Service]) -> None:
    depends = services["taskmanager"]["depends_on"]
    assert depends["jobmanager"]["condition"] == "service_healthy"


def test_job_is_submitted_to_the_cluster_once_everything_is_up(
    services: dict[str, Service],
) -> None:
    job = services["job"]
    command = job["command"]
    assert command[:2] == ["/opt/flink/bin/flink", "run"]
    assert command[command.index("--jobmanager") + 1] == "jobmanager:8081"
    script = command[command.index("--python") + 1]
    assert (PROJECT_ROOT / script).is_file()
    assert {name: d["condition"] for name, d in job["depends_on"].items()} == {
        "topics": "service_completed_successfully",
        "redis": "service_healthy",
        "jobmanager": "service_healthy",
        "taskmanager": "service_healthy",
    }
    settings = settings_of(job)
    assert settings.kafka.host == "kafka"
    assert settings.redis.host == "redis"
    assert settings.flink.remote == "jobmanager:8081"
    # The workers run the job's Python in the interpreter the client names.
    assert command[command.index("--pyExecutable") + 1] == "/usr/local/bin/python"


def test_checkpoints_and_models_are_shared_where_the_job_reads_them(
    services: dict[str, Service],
) -> None:
    settings = Settings(home=Path(HOME))
    checkpoints = PurePosixPath(settings.checkpoint_dir)
    models = PurePosixPath(settings.models_dir)
    holders = {name: volume_holding(services[name], checkpoints) for name in
               ("jobmanager", "taskmanager", "job")}  # fmt: skip
    assert set(holders.values()) == {"flink-state"}, holders
    holders = {name: volume_holding(services[name], models) for name in
               ("taskmanager", "job", "panel")}  # fmt: skip
    assert set(holders.values()) == {"models"}, holders


def test_panel_serves_from_postgres(services: dict[str, Service]) -> None:
    panel = services["panel"]
    assert panel["command"] == ["fraudguard", "panel"]
    settings = settings_of(panel)
    url = make_url(settings.panel_database_url)
    assert (url.drivername, url.host) == ("postgresql+psycopg", "postgres")
    postgres = services["postgres"]["environment"]
    assert (url.username, url.database) == (postgres["POSTGRES_USER"], postgres["POSTGRES_DB"])
    assert url.password == postgres["POSTGRES_PASSWORD"]
    assert panel["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert settings.panel.host == "0.0.0.0"  # inside its container; published on loopback


def test_prometheus_reads_the_projects_configuration(services: dict[str, Service]) -> None:
    prometheus = services["prometheus"]
    mounted = {m["target"]: m for m in prometheus["volumes"]}
    config = mounted["/etc/prometheus/prometheus.yml"]
    assert config["type"] == "bind"
    assert Path(config["source"]) == PROJECT_ROOT / "deploy" / "prometheus" / "prometheus.yml"
    assert "--config.file=/etc/prometheus/prometheus.yml" in prometheus["command"]


def test_project_services_run_commands_the_cli_has(services: dict[str, Service]) -> None:
    from fraudguard.cli import _register, cli

    _register()
    for name in PROJECT_IMAGE:
        command = services[name]["command"]
        if command[0] != "fraudguard":
            continue
        group: click.Command = cli
        for word in command[1:]:
            assert isinstance(group, click.Group), (name, command)
            found = group.get_command(click.Context(group), word)
            assert found is not None, f"{name}: `{' '.join(command)}` is not a command"
            group = found


def test_long_running_services_have_healthchecks(services: dict[str, Service]) -> None:
    for name, service in services.items():
        if name in ONE_SHOT:
            assert service.get("restart") == "no", name
            continue
        check = service.get("healthcheck")
        assert check and check["test"][0] in {"CMD", "CMD-SHELL"}, f"{name} has no healthcheck"


def test_depends_on_conditions_can_be_met(services: dict[str, Service]) -> None:
    for name, service in services.items():
        for other, dependency in (service.get("depends_on") or {}).items():
            condition = dependency["condition"]
            if condition == "service_healthy":
                assert "healthcheck" in services[other], f"{name} waits for {other}'s health"
            elif condition == "service_completed_successfully":
                assert other in ONE_SHOT, f"{name} waits for {other} to finish"


def test_project_services_build_the_one_image(services: dict[str, Service]) -> None:
    images = {services[name]["image"] for name in PROJECT_IMAGE}
    builds = {(services[name]["build"]["context"], services[name]["build"]["target"])
              for name in PROJECT_IMAGE}  # fmt: skip
    assert len(images) == 1 and len(builds) == 1
    assert Path(next(iter(builds))[0]) == PROJECT_ROOT


def test_images_are_pinned(services: dict[str, Service]) -> None:
    for name, service in services.items():
        repository, _, tag = service["image"].rpartition(":")
        assert repository and "/" not in tag, f"{name}: {service['image']} has no tag"
        assert tag != "latest" and any(c.isdigit() for c in tag), f"{name}: {service['image']}"


def test_ports_are_published_on_loopback_only(services: dict[str, Service]) -> None:
    for name, service in services.items():
        for port in service.get("ports", []):
            assert port.get("host_ip") == "127.0.0.1", f"{name} publishes {port} beyond loopback"
