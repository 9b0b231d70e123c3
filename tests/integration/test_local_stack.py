"""The real lifecycle on a private stack: its own home (under tmp) and its own ports.

Other tests share the default stack (9092/9093/6379 in .fraudguard/); this module never
touches it, so it can stop its own stack while they run. Jars are resolved again into the
private home (from the local Maven cache, a few seconds), which also exercises Maven.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from confluent_kafka.admin import ConfigResource, NewTopic

from fraudguard.cli.stack import stack as stack_command
from fraudguard.config import KafkaSettings, RedisSettings, Settings, TopicSpec, TopicsSettings
from fraudguard.errors import StackError
from fraudguard.stack import LocalStack, create_topics
from fraudguard.stack.process import PROC, spawn_detached
from fraudguard.stack.topics import make_admin

pytestmark = pytest.mark.integration


def private_settings(home: Path) -> Settings:
    return Settings(
        home=home,
        kafka=KafkaSettings(bootstrap_port=19092, controller_port=19093, heap="384m"),
        redis=RedisSettings(port=16379),
    )


def processes_naming(home: Path) -> list[str]:
    """Command lines of every live process that mentions ``home``, read straight from /proc."""
    found = []
    for entry in PROC.iterdir():
        try:
            raw = (entry / "cmdline").read_bytes() if entry.name.isdigit() else b""
        except OSError:
            continue
        line = raw.replace(b"\0", b" ").decode(errors="replace")
        if f"{home}/" in line:
            found.append(f"{entry.name}: {line}")
    return found


@pytest.fixture(scope="module")
def private_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    stack = LocalStack(private_settings(tmp_path_factory.mktemp("stack") / "home"))
    try:
        yield stack
    finally:
        stack.down()


@pytest.fixture
def running(private_stack: LocalStack) -> LocalStack:
    private_stack.up()
    return private_stack


def test_up_twice_is_harmless_and_fast(private_stack: LocalStack) -> None:
    first = private_stack.up()
    started = time.monotonic()
    second = private_stack.up()
    assert time.monotonic() - started < 5
    assert first.running and second.running
    assert [s.pid for s in first.services] == [s.pid for s in second.services]


def test_status_shows_services_and_declared_topics(running: LocalStack) -> None:
    status = running.status()
    assert status.running
    assert (status.service("kafka").port, status.service("redis").port) == (19092, 16379)
    expected = {spec.name: spec.partitions for spec in running.settings.topics.all()}
    assert status.topics == expected
    text = str(status)
    partitions = running.settings.topics.transactions.partitions
    assert "kafka  running" in text and f"transactions {partitions}" in text


def test_topics_carry_their_configs(running: LocalStack) -> None:
    labels = running.settings.topics.labels
    resource = ConfigResource(ConfigResource.Type.TOPIC, labels.name)
    admin = make_admin(running.settings)  # kept alive: the future needs its client
    [future] = admin.describe_configs([resource]).values()
    configs = future.result()
    assert configs["retention.ms"].value == str(labels.retention_ms)
    assert configs["cleanup.policy"].value == labels.cleanup_policy


def test_existing_topic_with_other_partitions_is_refused(running: LocalStack) -> None:
    admin = make_admin(running.settings)
    admin.create_topics([NewTopic("shrunk", num_partitions=2, replication_factor=1)])[
        "shrunk"
    ].result()
    topics = TopicsSettings(transactions=TopicSpec(name="shrunk", partitions=3))
    settings = running.settings.model_copy(update={"topics": topics})
    with pytest.raises(StackError, match="topic 'shrunk' has 2 partitions but settings ask for 3"):
        create_topics(settings)


def test_another_stack_on_the_same_ports_is_refused(running: LocalStack, tmp_path: Path) -> None:
    intruder = LocalStack(private_settings(tmp_path / "other-home"))
    kafka_pid = running.status().service("kafka").pid
    with pytest.raises(StackError, match=rf"port 19092 \(Kafka\) is taken by pid {kafka_pid} "):
        intruder.up()


def test_cli_status_of_the_running_stack(running: LocalStack) -> None:
    result = CliRunner().invoke(stack_command, ["status"], obj=running.settings)
    assert result.exit_code == 0, result.output
    assert "redis  running" in result.output


def test_down_leaves_no_process_of_the_home(running: LocalStack) -> None:
    home = running.paths.home
    pids = {s.name: s.pid for s in running.status().services}
    # A client started from the home (like the scoring job, whose settings file lives there).
    client = spawn_detached(
        [sys.executable, "-c", "import time; time.sleep(120)", str(home / "jobs" / "x.json")],
        home / "logs" / "client.out",
        home,
    )
    stopped = running.down()
    assert {(s.name, s.pid) for s in stopped} >= {
        *pids.items(),
        (Path(sys.executable).name, client),
    }
    assert [s.pid for s in stopped][0] == client  # clients go first, while Kafka still runs
    assert not any(s.forced for s in stopped)
    assert processes_naming(home) == []
    assert not running.status().running
    assert running.down() == []
