"""The ``fraudguard`` command line: the one entry point that reads the environment."""

from __future__ import annotations

import os

import click

from fraudguard.config import Settings
from fraudguard.errors import FraudGuardError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.pass_context
def cli(ctx: click.Context) -> None:
    """FraudGuard: real-time card fraud decisions on Kafka, Flink and Redis."""
    ctx.obj = Settings.from_env(os.environ)


def _register() -> None:
    # Subcommand modules import click and the library only; registering here keeps one root.
    from fraudguard.cli import (
        backtest,
        cluster,
        demo,
        features,
        generate,
        governor,
        job,
        log,
        model,
        outcomes,
        panel,
        replay,
        reranker,
        retrain,
        stack,
        thresholds,
        train,
    )

    modules = (
        stack, cluster, job, generate, features, train, model, governor, reranker, log, thresholds,
        panel, replay, backtest, outcomes, retrain, demo,
    )  # fmt: skip
    for module in modules:
        for command in module.COMMANDS:
            cli.add_command(command)


def main() -> None:
    _register()
    try:
        cli(standalone_mode=False)
    except click.exceptions.Abort:
        raise SystemExit(130) from None
    except click.ClickException as exc:
        exc.show()
        raise SystemExit(exc.exit_code) from None
    except FraudGuardError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(1) from None
    except OSError as exc:  # a path that cannot be read or written: its name and why, no trace
        where = f"{exc.filename}: " if exc.filename else ""
        click.echo(f"error: {where}{exc.strerror or exc}", err=True)
        raise SystemExit(1) from None
