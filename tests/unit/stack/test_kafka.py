"""Broker configuration rendering; no broker is started here."""

from __future__ import annotations

from pathlib import Path

import pytest

from fraudguard.config import KafkaSettings, Settings
from fraudguard.errors import StackError
from fraudguard.stack.kafka import (
    KafkaBroker,
    new_cluster_id,
    render_log4j2,
    render_server_properties,
)
from fraudguard.stack.layout import StackPaths


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    kafka = KafkaSettings(bootstrap_port=19092, controller_port=19093, heap="256m")
    return Settings(home=tmp_path / "home", kafka=kafka)


def properties(text: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in text.splitlines() if not line.startswith("#"))
    return dict(pairs)


def test_server_properties_are_loopback_kraft_with_explicit_topics(settings: Settings) -> None:
    paths = StackPaths.from_settings(settings)
    props = properties(render_server_properties(settings, paths))
    assert props["process.roles"] == "broker,controller"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:19093"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"
    assert props["advertised.listeners"] == "PLAINTEXT://127.0.0.1:19092"
    assert props["auto.create.topics.enable"] == "false"
    assert props["log.dirs"] == str(paths.home / "kafka" / "data")
    assert props["offsets.topic.replication.factor"] == "1"
    assert props["transaction.state.log.min.isr"] == "1"


def test_log4j2_writes_one_size_rolled_file_under_home(settings: Settings) -> None:
    paths = StackPaths.from_settings(settings)
    config = properties(render_log4j2(paths, max_size="5MB", keep=3).replace(" = ", "="))
    assert config["appender.file.type"] == "RollingFile"
    assert config["appender.file.fileName"] == str(paths.home / "logs" / "kafka.log")
    assert config["appender.file.policies.size.type"] == "SizeBasedTriggeringPolicy"
    assert config["appender.file.policies.size.size"] == "5MB"
    assert config["appender.file.strategy.max"] == "3"
    assert config["rootLogger.appenderRef.file.ref"] == "file"


def test_command_sets_heap_log_config_and_classpath(settings: Settings) -> None:
    broker = KafkaBroker(settings, StackPaths.from_settings(settings))
    command = broker.command("/usr/bin/java")
    home = str(StackPaths.from_settings(settings).home)
    assert command[:2] == ["/usr/bin/java", "-Xmx256m"]
    assert f"-Dlog4j2.configurationFile={home}/kafka/log4j2.properties" in command
    assert command[-4:] == [
        "-cp",
        f"{home}/lib/kafka/*",
        "kafka.Kafka",
        f"{home}/kafka/server.properties",
    ]


def test_cluster_ids_are_kafka_uuids() -> None:
    ids = {new_cluster_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(len(i) == 22 and not i.startswith("-") and "=" not in i for i in ids)


def test_running_broker_with_other_settings_is_refused(settings: Settings) -> None:
    paths = StackPaths.from_settings(settings)
    KafkaBroker(settings, paths).write_config()
    KafkaBroker(settings, paths).check_config()  # same settings: fine
    moved = settings.model_copy(update={"kafka": KafkaSettings(bootstrap_port=29092)})
    with pytest.raises(StackError, match="another configuration.*stack down"):
        KafkaBroker(moved, paths).check_config()
