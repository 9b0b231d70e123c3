"""`fraudguard stack` commands: run the local Kafka broker and Redis server, and
PostgreSQL for the panel on request."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

import click

from fraudguard.config import Settings
from fraudguard.errors import MetricsError
from fraudguard.ops.jobrunner import JobRunner
from fraudguard.stack import LocalStack
from fraudguard.stack.postgres import PostgresServer


class _EchoHandler(logging.Handler):
    """Shows the stack's progress (Maven, starting Kafka, ...) while ``up`` may take a while."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(f"  {record.getMessage()}", err=True)


def _show_progress() -> None:
    logger = logging.getLogger("fraudguard.stack")
    if not any(isinstance(handler, _EchoHandler) for handler in logger.handlers):
        logger.addHandler(_EchoHandler(logging.INFO))
    logger.setLevel(logging.INFO)


def start_and_show(start: Callable[[], object]) -> None:
    """Run ``start`` with its progress shown, then print what it returns and how long it took."""
    _show_progress()
    started = time.monotonic()
    click.echo(str(start()))
    click.echo(f"ready in {time.monotonic() - started:.1f} s")


def echo_stopped(stopped: Sequence[object], nothing: str) -> None:
    """One line per process stopped, or ``nothing`` when none ran."""
    for item in stopped:
        click.echo(str(item))
    if not stopped:
        click.echo(nothing)


@click.group("stack")
def stack() -> None:
    """Run the local Kafka broker and Redis server (all files under .fraudguard/)."""


@stack.command()
@click.pass_obj
def up(settings: Settings) -> None:
    """Start Kafka and Redis and create the topics; harmless when already running."""
    start_and_show(LocalStack(settings).up)


@stack.command()
@click.pass_obj
def down(settings: Settings) -> None:
    """Stop whatever was started from the home folder (the job too), then Redis and Kafka."""
    _show_progress()
    echo_stopped(LocalStack(settings).down(), "nothing was running")


@stack.command()
@click.pass_obj
def status(settings: Settings) -> None:
    """Show whether Kafka and Redis run, their pids and ports, the topics, and the scoring
    job's headline metrics when it runs."""
    click.echo(str(LocalStack(settings).status()))
    runner = JobRunner(settings)
    name = settings.flink.job_name
    if runner.pid() is None:
        click.echo(f"  job {name}: not running")
        return
    click.echo(f"  job {name}: running, metrics at {runner.metrics_url() or 'none'}")
    try:
        summary = runner.metrics()
    except MetricsError as exc:
        click.echo(f"    {exc}")
        return
    for line in str(summary).splitlines():
        click.echo(f"    {line}")


@stack.command()
@click.pass_obj
def topics(settings: Settings) -> None:
    """Create the project's topics (names, partitions, retention, compaction from settings) on
    the configured Kafka, without starting anything: for a Kafka cluster of your own."""
    from fraudguard.stack import create_topics

    created = set(create_topics(settings))
    for spec in settings.topics.all():
        state = "created" if spec.name in created else "exists"
        click.echo(f"{spec.name}\t{spec.partitions}\t{spec.cleanup_policy}\t{state}")


@stack.group("postgres")
def postgres() -> None:
    """Run PostgreSQL for the panel (not part of `stack up`: the scoring job does not need it)."""


@postgres.command("up")
@click.pass_obj
def postgres_up(settings: Settings) -> None:
    """Start PostgreSQL and create the panel's role and database; harmless when running."""
    _show_progress()
    server = PostgresServer.from_settings(settings)
    server.up()
    click.echo(f"{server.status()}\n{settings.postgres.url}")


@postgres.command("down")
@click.pass_obj
def postgres_down(settings: Settings) -> None:
    """Stop PostgreSQL (its data stays in the home folder)."""
    stopped = PostgresServer.from_settings(settings).stop()
    click.echo(str(stopped) if stopped else "PostgreSQL was not running")


@postgres.command("status")
@click.pass_obj
def postgres_status(settings: Settings) -> None:
    """Show whether PostgreSQL runs, its pid, port and the panel's database URL."""
    click.echo(f"{PostgresServer.from_settings(settings).status()}\n{settings.postgres.url}")


COMMANDS: list[click.Command] = [stack]
