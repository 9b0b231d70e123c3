"""`fraudguard backtest`: what the job would have decided on a historical file, offline."""

from __future__ import annotations

from pathlib import Path

import click

from fraudguard.wire.times import to_ms
from fraudguard.config import Settings
from fraudguard.errors import ConfigError

PATH = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.command()
@click.argument("source", type=PATH)
@click.option(
    "--mapping",
    "mapping_path",
    type=PATH,
    default=None,
    help="Column mapping (YAML) of SOURCE [default: SOURCE is FraudGuard's own JSONL, "
    "as `fraudguard generate` writes it].",
)
@click.option(
    "--model",
    default="champion",
    show_default=True,
    help="Registry version to score with, or `rules`.",
)
@click.option(
    "--thresholds",
    "thresholds_path",
    type=PATH,
    default=None,
    help="Threshold tiers file [default: the built-in tiers].",
)
@click.option("--compare-model", default=None, help="A second model to decide with.")
@click.option(
    "--compare-thresholds",
    "compare_thresholds_path",
    type=PATH,
    default=None,
    help="Second tiers to decide with.",
)
@click.option("--from", "from_date", default=None, help="First day or time decided (UTC).")
@click.option("--to", "to_date", default=None, help="End of the period, excluded (UTC).")
@click.option(
    "--labels",
    "labels_path",
    type=PATH,
    default=None,
    help="Labels file [default: the mapping's labels, or SOURCE's .labels file].",
)
@click.option(
    "--labels-known-at",
    default=None,
    help="Cut-off for labels: later reports are not used [default: --to].",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("backtest"),
    show_default=True,
    help="Folder for decisions.parquet and summary.json.",
)
@click.pass_obj
def backtest(
    settings: Settings, source: Path, mapping_path: Path | None, model: str,
    thresholds_path: Path | None, compare_model: str | None,
    compare_thresholds_path: Path | None, from_date: str | None, to_date: str | None,
    labels_path: Path | None, labels_known_at: str | None, out: Path,
) -> None:  # fmt: skip
    """Decide every payment of SOURCE as the job would (its feature kernel, scorer, tiers and
    exploration), offline, streaming the file; optionally a second configuration beside it."""
    from fraudguard.backtest import run_backtest
    from fraudguard.backtest.rows import FOREVER_MS, NEVER_MS
    from fraudguard.decision import BUILTIN_TIERS, load_tiers
    from fraudguard.generator.sinks import default_labels_path

    from_ms, until_ms = to_ms(from_date, "--from"), to_ms(to_date, "--to")
    known_at_ms = to_ms(labels_known_at, "--labels-known-at")
    transactions = source
    if mapping_path is not None:
        from fraudguard.replay.convert import convert_file
        from fraudguard.replay.mapping_file import load_mapping

        transactions = out / "converted" / "transactions.jsonl"
        transactions.parent.mkdir(parents=True, exist_ok=True)
        report = convert_file(source, load_mapping(mapping_path), transactions)
        click.echo(report.summary())
        labels_path = labels_path or report.labels_out
    elif source.suffix != ".jsonl":
        raise ConfigError(f"{source}: without --mapping the backtest reads FraudGuard's JSONL; "
                          "convert other files with a mapping")  # fmt: skip
    if labels_path is None and default_labels_path(source).exists() and mapping_path is None:
        labels_path = default_labels_path(source)
    summary = run_backtest(
        transactions, out, settings, model=model,
        tiers=load_tiers(thresholds_path) if thresholds_path else BUILTIN_TIERS,
        compare_model=compare_model,
        compare_tiers=load_tiers(compare_thresholds_path) if compare_thresholds_path else None,
        from_ms=NEVER_MS if from_ms is None else from_ms, to_ms=FOREVER_MS if until_ms is None else until_ms,
        labels=labels_path, labels_known_at_ms=known_at_ms,
    )  # fmt: skip
    for arm in ("baseline", "compare"):
        if arm in summary:
            s = summary[arm]
            counts = ", ".join(f"{d} {n:,}" for d, n in s["decisions"].items())
            click.echo(f"{arm}: {s['model_version']} / {s['threshold_version']}: {counts}; "
                       f"{s['explored']:,} explored -> {s['decisions_file']}")  # fmt: skip
    click.echo(f"{summary['transactions']:,} transactions in {summary['elapsed_s']:.1f}s "
               f"({summary['throughput_tps']:,} tx/s) -> {out / 'summary.json'}")  # fmt: skip


COMMANDS: list[click.Command] = [backtest]
