"""`fraudguard train`: a class-weighted XGBoost model from labelled features, registered as a
challenger (or promoted with --promote)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from fraudguard.cli.replay import MAX_REJECT_SHARE
from fraudguard.config import Settings
from fraudguard.errors import ConfigError
from fraudguard.wire.times import to_ms

_DATES = click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"])


def _ms(value: datetime | None) -> int | None:
    value = value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value
    return None if value is None else int(value.timestamp() * 1000)


def _weights(text: str | None) -> tuple[float, ...] | None:
    if not text:
        return None
    try:
        weights = tuple(float(w) for w in text.split(","))
    except ValueError:
        raise ConfigError(f"--weights must be numbers separated by commas, not {text!r}") from None
    if any(w <= 0 for w in weights):
        raise ConfigError("--weights must all be positive")
    return weights


def _fmt(value: Any, digits: int = 4) -> str:
    return "n/a" if value is None or value != value else f"{value:.{digits}f}"


@click.command("train")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--mapping",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Column mapping (YAML, replay/mappings/) of SOURCE, a foreign payments file: it is "
    "converted and its features built first.",
)
@click.option(
    "--work",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="With --mapping: folder for the converted transactions, labels, rejects and feature "
    "table [default: SOURCE's name with -train, in the current folder].",
)
@click.option(
    "--labels",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Labels file (FraudGuard's format) [default: beside a feature table, e.g. "
    "h.labels.parquet for h.features.parquet; the one a backtest read; the mapping's]. A "
    "transaction without a fraud label is legitimate.",
)
@click.option(
    "--labels-known-at",
    default=None,
    help="Cut-off (a date, midnight UTC, or an ISO-8601 time): fraud labels reported later "
    "are not used, and their transactions count as legitimate [default: every label].",
)
@MAX_REJECT_SHARE
@click.option("--validation", type=float, default=0.2, show_default=True, help="Share of rows.")
@click.option("--test", type=float, default=0.2, show_default=True, help="Share of rows held out.")
@click.option("--validation-start", type=_DATES, default=None, help="Instead of shares (UTC).")
@click.option("--test-start", type=_DATES, default=None, help="Instead of shares (UTC).")
@click.option("--folds", type=click.IntRange(1, 20), default=3, show_default=True)
@click.option(
    "--weights",
    default=None,
    help="scale_pos_weight values to try, e.g. 1,5,25 [default: 1 2 5 10 25 50 100 "
    "sqrt(neg/pos) neg/pos].",
)
@click.option("--no-compare", is_flag=True, help="Skip the imbalanced-learn comparison.")
@click.option("--k", type=click.IntRange(1), default=100, show_default=True, help="Cards/day.")
@click.option("--n-estimators", type=click.IntRange(1), default=150, show_default=True)
@click.option("--learning-rate", type=float, default=0.2, show_default=True)
@click.option("--max-depth", type=click.IntRange(1, 16), default=6, show_default=True)
@click.option("--nthread", type=click.IntRange(1), default=2, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--promote", is_flag=True, help="Make the new model the champion.")
@click.option("--progress/--no-progress", default=None, help="[default: on a terminal]")
@click.pass_obj
def train(
    settings: Settings,
    source: Path,
    mapping: Path | None,
    work: Path | None,
    labels: Path | None,
    labels_known_at: str | None,
    max_reject_share: float,
    validation: float,
    test: float,
    validation_start: datetime | None,
    test_start: datetime | None,
    folds: int,
    weights: str | None,
    no_compare: bool,
    k: int,
    n_estimators: int,
    learning_rate: float,
    max_depth: int,
    nthread: int,
    seed: int,
    promote: bool,
    progress: bool | None,
) -> None:
    """Train on SOURCE and register the model as a challenger to the champion.

    SOURCE is a feature table (`fraudguard features build`, `fraudguard log export`), a
    backtest's output folder or its decisions.parquet (`fraudguard backtest`), or, with
    --mapping, a payments file in a foreign layout (converted and its features built by the
    job's kernel, into --work). Rows are split by event time into training, validation and a
    held-out test period. The fraud class weight (scale_pos_weight) is chosen by prequential
    validation; the model stops early on the validation period and is measured on the test
    period, beside resampling alternatives from imbalanced-learn. The report (report.md,
    report.json, pr_curve.png) is written next to the model in the registry.
    """
    from fraudguard.models import ModelRegistry
    from fraudguard.training.booster import BoosterParams
    from fraudguard.training.pipeline import TrainConfig
    from fraudguard.training.pipeline import train as run_training
    from fraudguard.training.register import register_result
    from fraudguard.training.report import REPORT_MD
    from fraudguard.training.sources import load_input

    started = time.monotonic()
    cutoff_ms = to_ms(labels_known_at, "--labels-known-at")
    known_at = None if cutoff_ms is None else datetime.fromtimestamp(cutoff_ms / 1000, UTC)
    if work is not None and mapping is None:
        raise ConfigError("--work is where a foreign file is converted: it needs --mapping")
    loaded = load_input(
        source,
        settings,
        mapping=mapping,
        labels=labels,
        known_at=known_at,
        work=work or Path(f"{source.stem}-train"),
        max_reject_share=max_reject_share,
        say=click.echo,
    )
    data = loaded.data
    click.echo(
        f"table: {len(data):,} transactions, {data.frauds:,} fraud ({data.fraud_rate:.3%}), "
        f"feature set {data.feature_set_version}, sha256 {data.fingerprint()[:12]}"
    )
    config = TrainConfig(
        validation=validation,
        test=test,
        validation_start_ms=_ms(validation_start),
        test_start_ms=_ms(test_start),
        folds=folds,
        weights=_weights(weights),
        compare=not no_compare,
        k=k,
        params=BoosterParams(
            n_estimators=n_estimators,
            learning_rate=learning_rate,
            max_depth=max_depth,
            nthread=nthread,
            seed=seed,
        ),
    )
    result = run_training(data, config, progress=progress)
    for name, part in result.split.items():
        click.echo(
            f"{name:>10}: {part['rows']:>9,} rows {part['frauds']:>6,} fraud  "
            f"{part['first']} .. {part['last']}"
        )
    click.echo(f"scale_pos_weight by prequential validation ({folds} folds, mean AP):")
    for trial in result.trials:
        mark = "  <- chosen" if trial.weight == result.weight else ""
        per_fold = " ".join(_fmt(ap, 3) for ap in trial.fold_ap)
        click.echo(f"  {trial.weight:>8g}  {_fmt(trial.mean_ap)}  [{per_fold}]{mark}")
    m = result.metrics["test"]
    p8 = m["recall_at_precision"].get("0.8", {}).get("recall")
    click.echo(
        f"test: average precision {_fmt(m['average_precision'])} (fraud rate "
        f"{m['fraud_rate']:.3%}), ROC AUC {_fmt(m['roc_auc'])}, recall at precision 0.8 "
        f"{_fmt(p8)}, card precision@{k} {_fmt(m['card_precision_at_k'])} (ceiling "
        f"{_fmt(m['card_precision_at_k_ceiling'])}), Brier {_fmt(m['brier_score'], 5)}"
    )
    if len(result.comparison) > 1:
        click.echo("comparison on the test period (average precision):")
        for row in result.comparison:
            click.echo(
                f"  {_fmt(row['test']['average_precision'])}  {row['description']} "
                f"({row['seconds']:.1f} s)"
            )
    registry = ModelRegistry.from_settings(settings)
    entry = register_result(registry, result, loaded.sources, settings.project_root)
    click.echo(f"model {entry.version} registered: {entry.path / REPORT_MD}")
    before = registry.pointer().champion
    if promote:
        pointer = registry.promote(entry.version)
        click.echo(f"champion: {pointer.champion} (was {before or 'none'})")
    else:
        click.echo(
            f"challenger {entry.version} (champion: {before or 'none'}); make it the champion "
            f"with: fraudguard model promote {entry.version}"
        )
    click.echo(f"trained in {time.monotonic() - started:.1f} s")


COMMANDS: list[click.Command] = [train]
