"""`fraudguard thresholds validate|publish`: check a tiers file, send it to the running job."""

from __future__ import annotations

import math
from pathlib import Path

import click

from fraudguard.config import Settings
from fraudguard.decision import Override, ThresholdTiers, load_tiers

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.group()
def thresholds() -> None:
    """Threshold tiers (thresholds/*.yaml): validate a file, publish it to the job."""


@thresholds.command("validate")
@click.argument("file", type=_FILE)
def validate(file: Path) -> None:
    """Check FILE and show its tiers in the order they are tried; exit 1 naming the bad field."""
    tiers = load_tiers(file)
    click.echo(f"{file}: valid, version {tiers.version}")
    for line in describe(tiers):
        click.echo(f"  {line}")


@thresholds.command("publish")
@click.argument("file", type=_FILE)
@click.pass_obj
def publish(settings: Settings, file: Path) -> None:
    """Validate FILE and produce it to the control topic; the running job applies it.

    A version already published with different tiers is refused; publishing an earlier
    file again rolls back to it.
    """
    from fraudguard.control.changes import publish_tiers

    tiers = load_tiers(file)
    done = publish_tiers(settings, tiers)
    again = " (published before too: the job applies it again)" if done.again else ""
    click.echo(
        f"published thresholds version {done.version} to {done.topic} "
        f"(partition {done.partition}, offset {done.offset}){again}"
    )


def describe(tiers: ThresholdTiers) -> list[str]:
    """One line per tier, overrides first in the order they are tried, then the default."""
    lines = [_line(o.name, o.review, o.block, _segment(o)) for o in tiers.overrides]
    lines.append(_line("default", tiers.review, tiers.block, "everything else"))
    return lines


def _line(name: str, review: float, block: float, segment: str) -> str:
    return f"{name:20} review >= {review:<6g} block >= {block:<6g} {segment}"


def _segment(override: Override) -> str:
    parts = []
    if override.mcc is not None:
        parts.append(f"mcc in {','.join(sorted(override.mcc))}")
    if override.channel is not None:
        parts.append(f"channel {override.channel}")
    band = override.amount_eur
    if band is not None:
        low = f"{band.min:g} <= " if band.min > 0 else ""
        high = f" < {band.max:g}" if band.max != math.inf else ""
        parts.append(f"{low}amount_eur{high}" if high else f"amount_eur >= {band.min:g}")
    return ", ".join(parts)


COMMANDS: list[click.Command] = [thresholds]
