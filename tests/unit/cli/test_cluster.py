"""`fraudguard cluster` and the cluster side of `fraudguard job`, with no cluster running."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from fraudguard import cli as root
from fraudguard.stack.ports import free_port


def test_status_and_down_of_a_cluster_that_does_not_run(tmp_path: Path) -> None:
    root._register()
    runner = CliRunner()
    env = {"FRAUDGUARD_HOME": str(tmp_path), "FRAUDGUARD_CLUSTER__REST_PORT": str(free_port())}
    status = runner.invoke(root.cli, ["cluster", "status"], env=env)
    assert status.exit_code == 0, status.output
    assert "jobmanager   stopped" in status.output
    down = runner.invoke(root.cli, ["cluster", "down"], env=env)
    assert (down.exit_code, down.output.strip()) == (0, "the cluster was not running")
    stop = runner.invoke(root.cli, ["job", "stop"], env=env)
    assert (stop.exit_code, stop.output.strip()) == (0, "job was not running")


def test_submit_refuses_fresh_with_a_savepoint(tmp_path: Path) -> None:
    root._register()
    result = CliRunner().invoke(
        root.cli, ["job", "submit", "--fresh", "--from", str(tmp_path)],
        env={"FRAUDGUARD_HOME": str(tmp_path)},
    )  # fmt: skip
    assert result.exit_code == 2 and "exclude each other" in result.output
