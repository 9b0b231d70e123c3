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


@replay.command("run")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--namespace",
    "name",
    required=True,
    help="Topics NAME.transactions, NAME.decisions...; a job of its own.",
)
@click.option(
    "--mapping",
    "mapping_path",
    default=None,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Column mapping of SOURCE [default: SOURCE is our JSONL].",
)
@click.option(
    "--labels",
    "labels_path",
    default=None,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Labels: ours, or with --mapping the mapping's separate labels file.",
)
@click.option(
    "--speed",
    default="max",
    show_default=True,
    help="`max`, or a factor of history to wall time such as `60x`.",
)
@click.option(
    "--thresholds",
    "thresholds_path",
    default=None,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Tiers the namespace's job decides with [default: the built-in tiers].",
)
@click.option(
    "--labels-known-at",
    default=None,
    help="The report's cut-off for labels [default: the last payment's time].",
)
@click.option("--cost-fp", type=click.FloatRange(min=0), default=2.0, show_default=True)
@click.option("--cost-review", type=click.FloatRange(min=0), default=4.0, show_default=True)
@click.option("--review-minutes", type=click.FloatRange(min=0, min_open=True), default=5.0,
              show_default=True)  # fmt: skip
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the decisions and the report [default: replays/NAME].",
)
@click.option("--keep-job", is_flag=True, help="Leave the namespace's job running after.")
@click.pass_obj
def run(settings: Settings, source: Path, name: str, mapping_path: Path | None,
        labels_path: Path | None, speed: str, thresholds_path: Path | None,
        labels_known_at: str | None, cost_fp: float, cost_review: float,
        review_minutes: float, out: Path | None, keep_job: bool) -> None:  # fmt: skip
    """Replay SOURCE through the real job, in a namespace of its own: event-time order, labels
    at their report time on the replay's clock, the job's clock checks on event time; then a
    report from its committed decisions. Production's topics and job are never touched."""
    from fraudguard.backtest.experiment import run_replay_experiment
    from fraudguard.backtest.scenario import Scenario
    from fraudguard.replay.namespace import check_name
    from fraudguard.replay.player import parse_speed
    from fraudguard.wire.times import to_ms

    check_name(name)
    pace = parse_speed(speed)
    to_ms(labels_known_at, "--labels-known-at")  # refused by its option's name, before any work
    plan = Scenario.model_validate({
        "name": name, "out": out or Path("replays") / name,
        "source": {"file": source, "mapping": mapping_path, "labels": labels_path},
        "baseline": {"thresholds": thresholds_path},
        "period": {"labels_known_at": labels_known_at},
        "costs": {"fp_eur": cost_fp, "review_eur": cost_review, "review_minutes": review_minutes},
    })  # fmt: skip
    result = run_replay_experiment(
        plan, settings, name, pace, keep_job=keep_job, echo=click.echo,
        on_progress=lambda p: click.echo(p.describe(), err=True),
    )  # fmt: skip
    summary = result.summary
    click.echo(
        f"{summary['transactions']:,} transactions replayed at {summary['speed']}: "
        f"{summary['decisions']:,} decided, {summary['dead_letters']:,} dead-lettered, "
        f"{summary['duplicates']} duplicates, {summary['throughput_tps']:,} tx/s; report: "
        f"{result.report['md']}"
    )


@replay.command("down")
@click.argument("name")
@click.pass_obj
def down(settings: Settings, name: str) -> None:
    """Stop a namespace's job and delete its topics, feature-store keys and checkpoints."""
    from fraudguard.replay.namespace import tear_down

    click.echo(f"namespace {name}: {tear_down(settings, name).describe()}")


@replay.command("list")
@click.pass_obj
def list_namespaces(settings: Settings) -> None:
    """The replay namespaces on the broker, with their topics."""
    from fraudguard.replay.namespace import namespaces

    found = namespaces(settings)
    for name, topics in found.items():
        click.echo(f"{name}: {', '.join(sorted(topics))}")
    if not found:
        click.echo("no replay namespaces")


COMMANDS: list[click.Command] = [replay]
