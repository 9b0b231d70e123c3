"""`fraudguard demo`: the whole loop with a live status line."""

from __future__ import annotations

import sys
import threading

import click

from fraudguard.config import Settings


@click.command()
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=None,
    help="Stop after N transactions and print a summary (default: run until Ctrl-C).",
)
@click.option(
    "--rate",
    type=click.FloatRange(min=0),
    default=2000.0,
    show_default=True,
    help="Transactions per second to send; 0 sends as fast as possible.",
)
@click.option(
    "--seed", type=int, default=7, show_default=True, help="Seed of the generated stream."
)
@click.option(
    "--timeout",
    "timeout_s",
    type=float,
    default=900.0,
    show_default=True,
    help="Give up after this many seconds.",
)
@click.pass_obj
def demo(settings: Settings, limit: int | None, rate: float, seed: int, timeout_s: float) -> None:
    """Start the stack and the job, stream payments, show decisions as they come."""
    from fraudguard.ops.demo import run_demo

    tty = sys.stdout.isatty()

    def show(line: str) -> None:
        if tty and line.startswith("["):
            click.echo("\r" + line.ljust(120), nl=False)
        else:
            click.echo(line)

    stop = threading.Event()
    try:
        summary = run_demo(settings, limit, rate, seed, show, timeout_s=timeout_s, stop=stop)
    except KeyboardInterrupt:
        stop.set()
        raise
    if tty:
        click.echo()
    click.echo(summary.line())
    if summary.missing or summary.duplicates:
        raise SystemExit(1)


COMMANDS: list[click.Command] = [demo]
