"""`fraudguard model list|show|promote|challenger|rollback`: the model registry, its champion
and its shadow challenger."""

from __future__ import annotations

import click

from fraudguard.config import Settings


@click.group()
def model() -> None:
    """Registered models and the champion the job serves."""


@model.command("list")
@click.pass_obj
def list_models(settings: Settings) -> None:
    """Every registered model, oldest first; * marks the champion, ~ the challenger."""
    from fraudguard.features import FEATURE_SET_VERSION
    from fraudguard.models import ModelRegistry

    registry = ModelRegistry.from_settings(settings)
    entries = registry.entries()
    if not entries:
        click.echo(f"no models in {registry.root}; train one with `fraudguard train`")
        return
    pointer = registry.pointer()
    champion, challenger = pointer.champion, pointer.challenger
    click.echo(
        f"  {'version':<28} {'created (UTC)':<21} {'feature set':<18} {'weight':>7} "
        f"{'test AP':>8} {'fraud rate':>10}"
    )
    for entry in entries:
        meta = entry.metadata
        test = meta.metrics.get("test", {})
        ap, rate = test.get("average_precision"), test.get("fraud_rate")
        stale = "" if meta.feature_set_version == FEATURE_SET_VERSION else " (not current)"
        click.echo(
            f"{'*' if entry.version == champion else '~' if entry.version == challenger else ' '}"
            f" {entry.version:<28} "
            f"{meta.created_at:<21} {meta.feature_set_version + stale:<18} "
            f"{meta.scale_pos_weight:>7g} {'n/a' if ap is None else f'{ap:.4f}':>8} "
            f"{'n/a' if rate is None else f'{rate:.3%}':>10}"
        )


@model.command()
@click.argument("version")
@click.pass_obj
def show(settings: Settings, version: str) -> None:
    """A model's metadata (JSON) and where its files are."""
    from fraudguard.models import ModelRegistry
    from fraudguard.models.registry import metadata_json

    entry = ModelRegistry.from_settings(settings).get(version)
    click.echo(metadata_json(entry))
    click.echo(f"folder: {entry.path}", err=True)


@model.command()
@click.argument("version")
@click.pass_obj
def promote(settings: Settings, version: str) -> None:
    """Make VERSION the champion (refused if it was trained on another feature set)."""
    from fraudguard.control.changes import promote_model

    change = promote_model(settings, version)
    if change.before == change.after:
        click.echo(f"champion: {change.after} (unchanged)")
    else:
        click.echo(f"champion: {change.after} (was {change.before or 'none'})")


@model.command()
@click.argument("version", required=False)
@click.option("--clear", is_flag=True, help="Stop scoring a challenger.")
@click.pass_obj
def challenger(settings: Settings, version: str | None, clear: bool) -> None:
    """Score VERSION beside the champion as a shadow challenger: its score goes into every
    decision record (challenger_score), and it decides nothing."""
    from fraudguard.control.changes import set_challenger
    from fraudguard.errors import ConfigError

    if clear == (version is not None):
        raise ConfigError("give a VERSION or --clear")
    change = set_challenger(settings, version)
    click.echo(f"challenger: {change.after or 'none'} (was {change.before or 'none'})")


@model.command()
@click.pass_obj
def rollback(settings: Settings) -> None:
    """Return to the previous champion."""
    from fraudguard.control.changes import roll_back_model

    change = roll_back_model(settings)
    click.echo(f"champion: {change.after} (was {change.before})")


COMMANDS: list[click.Command] = [model]
