"""`fraudguard stack` wiring: settings from the root group, exit codes, error text."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from fraudguard import cli as root
from fraudguard.config import Settings
from fraudguard.errors import StackError
from fraudguard.stack import LocalStack


def test_status_and_down_of_a_stopped_stack(tmp_path: Path) -> None:
    root._register()
    runner = CliRunner()
    env = {"FRAUDGUARD_HOME": str(tmp_path / "home")}
    status = runner.invoke(root.cli, ["stack", "status"], env=env)
    assert status.exit_code == 0, status.output
    assert f"in {tmp_path}/home" in status.output
    assert "kafka  stopped" in status.output and "redis  stopped" in status.output
    down = runner.invoke(root.cli, ["stack", "down"], env=env)
    assert (down.exit_code, down.output.strip()) == (0, "nothing was running")


def test_stack_error_exits_1_with_its_message(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def fail(self: LocalStack) -> None:
        raise StackError("port 9092 (Kafka) is taken by pid 1 (x)")

    monkeypatch.setattr(LocalStack, "up", fail)
    monkeypatch.setattr(sys, "argv", ["fraudguard", "stack", "up"])
    with pytest.raises(SystemExit) as exited:
        root.main()
    assert exited.value.code == 1
    assert "error: port 9092 (Kafka) is taken by pid 1 (x)" in capsys.readouterr().err


@pytest.mark.integration
def test_topics_creates_the_configured_topics_once(stack_settings: Settings) -> None:
    from confluent_kafka.admin import ConfigResource

    from fraudguard.cli.stack import topics
    from fraudguard.stack import delete_topics
    from fraudguard.stack.topics import make_admin

    settings = stack_settings.isolated(f"c{uuid.uuid4().hex[:8]}")
    names = [spec.name for spec in settings.topics.all()]
    try:
        first = CliRunner().invoke(topics, obj=settings)
        assert first.exit_code == 0, first.output
        assert [line.split("\t") for line in first.stdout.splitlines()] == [
            [s.name, str(s.partitions), s.cleanup_policy, "created"] for s in settings.topics.all()
        ]
        again = CliRunner().invoke(topics, obj=settings)
        assert [line.split("\t")[-1] for line in again.stdout.splitlines()] == ["exists"] * len(
            names
        )
        state = ConfigResource("topic", settings.topics.reranker_state.name)
        admin = make_admin(settings)  # kept: a collected client cancels its futures
        described = admin.describe_configs([state])[state].result(timeout=30)
        assert described["cleanup.policy"].value == "compact"
    finally:
        delete_topics(settings, names)
