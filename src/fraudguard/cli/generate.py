"""`fraudguard generate`: write a synthetic payment stream to files or to Kafka."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError

from fraudguard.config import Settings
from fraudguard.errors import ConfigError

MAX_KAFKA_DAYS = 34.0
"""The scoring job refuses events older than 35 days (``parse_transaction``'s ``max_age_ms``);
a day of margin covers the time it takes to send the backlog."""


def _config(**fields: Any) -> Any:
    from fraudguard.generator import GeneratorConfig

    try:
        return GeneratorConfig(**{k: v for k, v in fields.items() if v is not None})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'config'}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"invalid generator settings: {problems}") from None


@click.command("generate")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@click.option("--cards", type=int, default=5_000, show_default=True)
@click.option("--merchants", type=int, default=1_000, show_default=True)
@click.option(
    "--days",
    type=float,
    default=30.0,
    show_default=True,
    help="Simulated period; with --kafka, how far back from now it starts.",
)
@click.option(
    "--start",
    type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
    default=None,
    help="First simulated day (UTC), file mode only [default: 2026-01-05].",
)
@click.option("--fraud-rate", type=float, default=0.003, show_default=True)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Transactions file: .jsonl, .csv or .parquet.",
)
@click.option(
    "--labels-out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Labels file [default: next to --out, e.g. txns.labels.parquet].",
)
@click.option(
    "--kafka",
    is_flag=True,
    help="Produce to the transactions topic, and the ground truth to the ground_truth topic.",
)
@click.option(
    "--rate",
    type=float,
    default=0.0,
    show_default=True,
    help="Transactions per second with --kafka; 0 sends as fast as possible.",
)
@click.option("--limit", type=int, default=None, help="Stop after this many transactions.")
@click.option(
    "--follow",
    is_flag=True,
    help="With --kafka: after catching up with now, keep going in real time.",
)
@click.option("--no-labels", is_flag=True, help="Write or send no labels.")
@click.option(
    "--hindsight-labels",
    is_flag=True,
    help="With --kafka: send the labels to the labels topic as they fall due, every fraud "
    "whatever was decided (for tests and tools; a bank never has them), instead of the ground "
    "truth to ground_truth for `fraudguard outcomes run`.",
)
@click.option(
    "--id-prefix",
    default=None,
    help="Prefix of every txn id [default: none in file mode; 'g<unix seconds>-' with --kafka, "
    "so a second run is not taken for retries of the first].",
)
@click.pass_obj
def generate(
    settings: Settings,
    seed: int,
    cards: int,
    merchants: int,
    days: float,
    start: datetime | None,
    fraud_rate: float,
    out: Path | None,
    labels_out: Path | None,
    kafka: bool,
    rate: float,
    limit: int | None,
    follow: bool,
    no_labels: bool,
    hindsight_labels: bool,
    id_prefix: str | None,
) -> None:
    """Generate card payments with labelled fraud, to a file (--out) or to Kafka (--kafka)."""
    from fraudguard.generator import PaymentStream, produce_to_kafka, write_files

    if kafka == (out is not None):
        raise ConfigError("choose one destination: --out FILE or --kafka")
    if limit is not None and limit < 1:
        raise ConfigError("--limit must be at least 1")
    fields = dict(seed=seed, cards=cards, merchants=merchants, days=days, fraud_rate=fraud_rate)
    if out is not None:
        if rate or follow or hindsight_labels:
            raise ConfigError("--rate, --follow and --hindsight-labels only apply with --kafka")
        if labels_out is not None and no_labels:
            raise ConfigError("--labels-out and --no-labels contradict each other")
        stream = PaymentStream(_config(**fields, start=start, txn_id_prefix=id_prefix))
        written = write_files(stream, out, labels_out, with_labels=not no_labels, limit=limit)
        where = f"{out}" + (f", labels in {written.labels_out}" if written.labels_out else "")
        click.echo(f"generated {written.describe()} -> {where}")
        return

    if start is not None or labels_out is not None:
        raise ConfigError("--start and --labels-out are for file mode; a Kafka stream ends now")
    if rate < 0:
        raise ConfigError("--rate must be >= 0")
    if hindsight_labels and no_labels:
        raise ConfigError("--hindsight-labels and --no-labels contradict each other")
    if days > MAX_KAFKA_DAYS:
        raise ConfigError(
            f"--days must be at most {MAX_KAFKA_DAYS:g} with --kafka: the job "
            "refuses events older than 35 days"
        )
    now_ms = int(time.time() * 1000)
    prefix = id_prefix if id_prefix is not None else f"g{now_ms // 1000}-"
    config = _config(**fields, txn_id_prefix=prefix).ending_at(now_ms)
    if follow:
        config = config.model_copy(update={"days": None})
    last_echo = [time.monotonic()]

    def progress(report: Any) -> None:
        if time.monotonic() - last_echo[0] >= 10:
            last_echo[0] = time.monotonic()
            click.echo(f"... {report.describe()}", err=True)

    report = produce_to_kafka(
        settings,
        PaymentStream(config),
        rate=rate,
        limit=limit,
        on_progress=progress,
        labels=not no_labels,
        truth_to="labels" if hindsight_labels else "ground_truth",
    )
    truth_topic = settings.topics.labels if hindsight_labels else settings.topics.ground_truth
    topics = settings.topics.transactions.name + (
        "" if no_labels else f" and {truth_topic.name}"
    )
    failed = f", {report.failed:,} NOT delivered" if report.failed else ""
    click.echo(f"sent {report.describe()} to {topics} ({report.stopped}{failed})")
    if report.failed:
        raise SystemExit(1)


COMMANDS: list[click.Command] = [generate]
