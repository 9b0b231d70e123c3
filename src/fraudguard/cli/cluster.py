"""`fraudguard cluster up|down|status`: the local Flink session cluster."""

from __future__ import annotations

import click

from fraudguard.cli.stack import echo_stopped, start_and_show
from fraudguard.config import Settings
from fraudguard.stack.flink_cluster import FlinkCluster


@click.group("cluster")
def cluster() -> None:
    """Run a local Flink session cluster (a JobManager and a TaskManager, on loopback)."""


@cluster.command()
@click.pass_obj
def up(settings: Settings) -> None:
    """Start the JobManager and a TaskManager; harmless when they run, and brings back a
    TaskManager that died."""
    start_and_show(FlinkCluster(settings).up)


@cluster.command()
@click.pass_obj
def down(settings: Settings) -> None:
    """Stop the TaskManager and the JobManager (a job on it stops without a savepoint: run
    `fraudguard job stop` first to keep one)."""
    echo_stopped(FlinkCluster(settings).down(), "the cluster was not running")


@cluster.command()
@click.pass_obj
def status(settings: Settings) -> None:
    """Show the JobManager, the TaskManagers with their slots, and the jobs."""
    click.echo(str(FlinkCluster(settings).status()))


COMMANDS: list[click.Command] = [cluster]
