"""`fraudguard log export`: the decision log and the labels, as Parquet files to train on."""

from __future__ import annotations

from pathlib import Path

import click

from fraudguard.config import Settings


@click.group("log")
def log_group() -> None:
    """The decision log (the decisions topic) as files."""


@log_group.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.pass_obj
def export(settings: Settings, folder: Path) -> None:
    """Write FOLDER/decisions.parquet (committed decisions with their logged features) and
    FOLDER/decisions.labels.parquet (the labels topic).

    Train on them with `fraudguard train FOLDER/decisions.parquet`: the model learns from the
    feature values exactly as the job computed them.
    """
    from fraudguard.streams.decision_log import export_log

    decisions = folder / "decisions.parquet"
    labels = folder / "decisions.labels.parquet"
    done = export_log(settings, decisions, labels)
    click.echo(f"{done.decisions:,} decisions -> {decisions}")
    click.echo(f"{done.labels:,} labels -> {labels}")
    if done.skipped:
        click.echo(f"{done.skipped:,} records were not JSON objects and were left out", err=True)


COMMANDS = [log_group]
