"""`fraudguard features build|list`: the offline path over a file, and the registry."""

from __future__ import annotations

from pathlib import Path

import click

from fraudguard.cli.replay import MAX_REJECT_SHARE
from fraudguard.config import Settings


@click.group()
def features() -> None:
    """Declared features: build them offline, or list them."""


@features.command("build")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Feature table (.parquet, .csv or .jsonl) [default: SOURCE with .features.parquet].",
)
@click.option(
    "--labels",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Labels file whose fraud labels feed the label-fed features [default: none].",
)
@MAX_REJECT_SHARE
@click.pass_obj
def build(
    settings: Settings,
    source: Path,
    out: Path | None,
    labels: Path | None,
    max_reject_share: float,
) -> None:
    """Compute every feature of every transaction in SOURCE, exactly as the job does.

    SOURCE is a transactions file (.jsonl, .csv or .parquet, as `fraudguard generate` and
    `fraudguard replay convert` write). Transactions are validated like the job validates them
    (without the clock checks); a retried id is kept once. Refused rows are counted by reason
    and written beside the table (OUT's name with .rejects.jsonl); more than
    --max-reject-share of them fails the run before any feature is computed.

    With --labels, the file's fraud labels feed the label-fed risk features (merchant and
    terminal fraud rates, the card's confirmed fraud), each from the first payment after its
    report time, as the job applies them; labels need card_id, merchant_id and terminal_id.
    Without it those features are computed with no label known.
    """
    from fraudguard.features.files import build_feature_file, default_features_path

    out = out or default_features_path(source)
    click.echo(build_feature_file(source, out, settings, max_reject_share, labels).summary())


@features.command("list")
def list_features() -> None:
    """Every feature name with its declaration."""
    from fraudguard.features import FEATURE_SET_VERSION, FEATURES, feature_name

    for feature in FEATURES:
        click.echo(f"{feature_name(feature):40} {feature!r}")
    click.echo(f"{len(FEATURES)} features, version {FEATURE_SET_VERSION}")


COMMANDS: list[click.Command] = [features]
