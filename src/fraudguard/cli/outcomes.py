"""`fraudguard outcomes`: the labels a bank would learn of a backtest's decisions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError

from fraudguard.config import OutcomesSettings, Settings
from fraudguard.errors import ConfigError

BANK_LABELS_FILE = "bank.labels.parquet"


@click.command("outcomes")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--truth",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="The generator's labels file (ground truth) [default: the one the backtest read].",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=f"Bank labels file (.parquet, .jsonl or .csv) [default: {BANK_LABELS_FILE} beside "
    "the decisions].",
)
@click.option("--seed", type=click.IntRange(0), default=None, help="[default: outcomes.seed]")
@click.option("--review-capacity", type=click.IntRange(0), default=None,
              help="Verdicts per day [default: outcomes.review_capacity_per_day].")  # fmt: skip
@click.option("--chargeback-median-days", type=float, default=None,
              help="[default: outcomes.chargeback_median_days]")  # fmt: skip
@click.option("--review-error-rate", type=float, default=None,
              help="[default: outcomes.review_error_rate]")  # fmt: skip
@click.pass_obj
def outcomes(
    settings: Settings,
    source: Path,
    truth: Path | None,
    out: Path | None,
    seed: int | None,
    review_capacity: int | None,
    chargeback_median_days: float | None,
    review_error_rate: float | None,
) -> None:
    """Write the labels a bank would learn of the decisions in SOURCE (a backtest's output
    folder or its decisions.parquet): a chargeback for each approved fraud (explored releases
    included) weeks later, an investigation verdict for reviews within the day's capacity
    (sometimes wrong), nothing for blocked payments. The ground truth decides what a label
    says, never whether there is one; train on the result with `fraudguard retrain`.
    """
    from fraudguard.outcomes import write_bank_labels
    from fraudguard.training.sources import backtest_labels, table_file

    decisions = table_file(source)
    given: dict[str, Any] = {
        "seed": seed, "review_capacity_per_day": review_capacity,
        "chargeback_median_days": chargeback_median_days, "review_error_rate": review_error_rate,
    }  # fmt: skip
    changes = {k: v for k, v in given.items() if v is not None}
    try:
        chosen = OutcomesSettings.model_validate({**settings.outcomes.model_dump(), **changes})
    except ValidationError as exc:
        raise ConfigError(f"outcomes settings: {exc.errors()[0]['msg']}") from None
    report = write_bank_labels(
        decisions,
        truth or backtest_labels(decisions),
        out or decisions.with_name(BANK_LABELS_FILE),
        chosen,
    )
    click.echo(report.summary())


COMMANDS: list[click.Command] = [outcomes]
