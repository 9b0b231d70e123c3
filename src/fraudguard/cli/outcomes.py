"""`fraudguard outcomes`: the labels a bank would learn, of a backtest's decisions (``outcomes
DIR``) or of the committed decisions on Kafka, as a service (``outcomes run|stop|status``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError

from fraudguard.config import OutcomesSettings, Settings
from fraudguard.errors import ConfigError

BANK_LABELS_FILE = "bank.labels.parquet"


class _OutcomesGroup(click.Group):
    """Subcommands, and ``outcomes SOURCE`` as short for ``outcomes file SOURCE``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["file", *args]
        return super().parse_args(ctx, args)


@click.group("outcomes", cls=_OutcomesGroup)
def outcomes() -> None:
    """The labels a bank would learn of its decisions: `outcomes SOURCE` for a backtest's
    decisions file, `outcomes run` as a service on the decisions and ground_truth topics."""


@outcomes.command("file")
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
def outcomes_file(
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


@outcomes.command("run")
@click.option(
    "--from-beginning",
    is_flag=True,
    help="On a first start, read what the topics hold [default: from their end].",
)
@click.option("--until-idle", type=click.FloatRange(0), default=None,
              help="Stop once nothing new came for this many seconds.")  # fmt: skip
@click.pass_obj
def run(settings: Settings, from_beginning: bool, until_idle: float | None) -> None:
    """Follow the committed decisions and the generator's ground truth, and write to the
    labels topic only what the bank learns, when the stream's clock reaches it, exactly once
    (one Kafka transaction per round holds the labels, the changelog and the positions).
    Ctrl-C or SIGTERM stops after the current round."""
    from fraudguard.ops.background import run_until_signalled
    from fraudguard.outcomes.service import OutcomesService, describe

    service = OutcomesService(settings, from_beginning=from_beginning)
    status = run_until_signalled(
        lambda stop: service.run(stop=stop, until_idle_s=until_idle), lambda: service.status
    )
    click.echo(describe(status.to_dict()))


@outcomes.command("stop")
@click.pass_obj
def stop(settings: Settings) -> None:
    """Stop the background outcomes service (the one `make demo` starts)."""
    from fraudguard.ops.outcomes_runner import OutcomesRunner

    click.echo(OutcomesRunner(settings).stop_line())


@outcomes.command("status")
@click.pass_obj
def status(settings: Settings) -> None:
    """Whether the background service runs, and what it has done (its last round's status)."""
    from fraudguard.ops.outcomes_runner import OutcomesRunner
    from fraudguard.outcomes.service import describe

    def with_counts(last: dict[str, Any]) -> str:
        return f"{describe(last)}\n  counts: {last.get('counts', {})}"

    click.echo("\n".join(OutcomesRunner(settings).status_lines(with_counts)))


COMMANDS: list[click.Command] = [outcomes]
