"""`fraudguard stack` wiring: settings from the root group, exit codes, error text."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from fraudguard import cli as root
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
