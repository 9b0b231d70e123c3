"""`fraudguard replay convert`: a foreign payments file to our transactions and labels."""

from __future__ import annotations

from pathlib import Path

import click

from fraudguard.config import Settings
from fraudguard.replay.rejects import DEFAULT_MAX_SHARE

MAX_REJECT_SHARE = click.option(
    "--max-reject-share",
    type=click.FloatRange(0.0, 1.0),
    default=DEFAULT_MAX_SHARE,
    show_default=True,
    help="Fail when more than this share of a file's rows is refused.",
)
"""Shared with `fraudguard features build`, which refuses rows the same way."""


@click.group()
def replay() -> None:
    """Historical payments from other sources, through a column mapping."""


@replay.command("convert")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--mapping",
    "mapping_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Column mapping (YAML), such as replay/mappings/paysim.yaml.",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Transactions file to write: .jsonl, .csv or .parquet.",
)
@click.option(
    "--labels-out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Labels file [default: OUT's name with .labels].",
)
@click.option(
    "--labels",
    "labels_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="A separate labels file, instead of the mapping's labels.file.",
)
@click.option(
    "--rejects",
    "rejects_out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where refused rows go (JSONL) [default: OUT's name with .rejects.jsonl].",
)
@MAX_REJECT_SHARE
@click.pass_obj
def convert(
    settings: Settings,
    source: Path,
    mapping_path: Path,
    out: Path,
    labels_out: Path | None,
    labels_file: Path | None,
    rejects_out: Path | None,
    max_reject_share: float,
) -> None:
    """Convert SOURCE (.csv, .parquet or .jsonl, in its own layout) by a mapping into a
    transactions file and a labels file that `fraudguard features build` and `fraudguard
    train` read. Every row is validated like the job validates a transaction (without the
    clock checks); refused rows are counted, kept in a rejects file, and fail the run over
    --max-reject-share."""
    from fraudguard.replay.convert import convert_file
    from fraudguard.replay.mapping_file import load_mapping

    report = convert_file(
        source,
        load_mapping(mapping_path),
        out,
        labels_out=labels_out,
        labels_file=labels_file,
        rejects_out=rejects_out,
        max_reject_share=max_reject_share,
    )
    click.echo(report.summary())


COMMANDS: list[click.Command] = [replay]
