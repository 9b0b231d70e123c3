"""`fraudguard retrain`: the naive and the inverse-propensity-weighted model from a decision
log and the bank's labels, compared, the better registered as a challenger."""

from __future__ import annotations

from pathlib import Path

import click

from fraudguard.config import Settings
from fraudguard.errors import ConfigError
from fraudguard.wire.times import to_ms

DAY_MS = 86_400_000


@click.command("retrain")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--labels",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="The bank's labels [default: bank.labels.parquet beside the decisions, as "
    "`fraudguard outcomes` writes it].",
)
@click.option(
    "--labels-known-at",
    default=None,
    help="Cut-off (a date or an ISO-8601 time) [default: the last decision].",
)
@click.option(
    "--test-days",
    type=click.FloatRange(min=0, min_open=True),
    default=7.0,
    show_default=True,
    help="The latest days before the cut-off, held out to compare.",
)
@click.option(
    "--label-window-days",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Unlabelled approvals this old count as legitimate [default: outcomes.label_window_days].",
)
@click.option(
    "--blocked",
    type=click.Choice(["drop", "explored-only"]),
    default="drop",
    show_default=True,
    help="Stopped payments: drop those without a label, or keep "
    "only the explored ones (docs/training.md).",
)
@click.option(
    "--truth",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="The generator's labels (ground truth), to evaluate with; never trained on.",
)
@click.option(
    "--budget",
    type=click.IntRange(1),
    default=100,
    show_default=True,
    help="Reviews a day, for recall at the review budget.",
)
@click.option(
    "--scale-pos-weight",
    type=click.FloatRange(min=0, min_open=True),
    default=10.0,
    show_default=True,
)
@click.option(
    "--history",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="Labelled history to keep learning from, before the decision log's rows (what the "
    "champion was trained on: a feature table with its labels file beside it, or a backtest's "
    "output); without it a first retraining knows only the log's few labels.",
)
@click.option("--n-estimators", type=click.IntRange(1), default=150, show_default=True)
@click.option("--nthread", type=click.IntRange(1), default=2, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.pass_obj
def retrain(
    settings: Settings,
    source: Path,
    labels: Path | None,
    labels_known_at: str | None,
    test_days: float,
    label_window_days: float | None,
    blocked: str,
    truth: Path | None,
    budget: int,
    scale_pos_weight: float,
    history: Path | None,
    n_estimators: int,
    nthread: int,
    seed: int,
) -> None:
    """Retrain on SOURCE (a backtest's output folder or its decisions.parquet) with the bank's
    labels known at the cut-off: explored rows weighted by 1/propensity, matured unlabelled
    approvals legitimate, stopped payments by --blocked. Trains the naive and the weighted
    model on the decisions before the test period, compares them on its explored decisions
    (the unbiased sample) and, with --truth, on every test decision, and registers the better
    as a challenger with its report. It never promotes.
    """
    import pyarrow.parquet as pq

    from fraudguard.backtest.labels import KnownLabels
    from fraudguard.features import FEATURE_SET_VERSION
    from fraudguard.models import ModelRegistry
    from fraudguard.outcomes.files import read_fraud_ids
    from fraudguard.training.booster import BoosterParams
    from fraudguard.training.retrain import (
        TIERS_FILE,
        BlockedPolicy,
        RetrainConfig,
        register_retrained,
    )
    from fraudguard.training.retrain import retrain as run_retrain
    from fraudguard.training.retrain_report import REPORT_MD
    from fraudguard.training.sources import table_file

    decisions_path = table_file(source)
    labels = labels or decisions_path.with_name("bank.labels.parquet")
    if not labels.is_file():
        raise ConfigError(f"no bank labels at {labels}: write them with `fraudguard outcomes`")
    decisions = pq.read_table(decisions_path)
    if decisions.num_rows == 0:
        raise ConfigError(f"{decisions_path} holds no decision")
    cutoff = to_ms(labels_known_at, "--labels-known-at")
    if cutoff is None:
        cutoff = int(max(decisions["ts_ms"].to_pylist()))
    window_days = label_window_days or settings.outcomes.label_window_days
    known = KnownLabels.from_file(labels, cutoff).reported
    config = RetrainConfig(
        scale_pos_weight=scale_pos_weight,
        params=BoosterParams(n_estimators=n_estimators, nthread=nthread, seed=seed),
    )
    kept = None
    if history is not None:
        from fraudguard.training.sources import load_input

        kept = load_input(history, settings).data
        click.echo(f"history: {len(kept):,} labelled rows, {kept.frauds:,} frauds ({history})")
    result = run_retrain(
        decisions, known, cutoff, cutoff - round(test_days * DAY_MS), round(window_days * DAY_MS),
        BlockedPolicy(blocked), config, read_fraud_ids(truth) if truth else None, budget, kept,
    )  # fmt: skip
    report = result.report
    click.echo(
        f"training set: {report['training_rows']:,} decisions, "
        f"{report['training_frauds']:,} known frauds ({report['training_set']})"
    )
    for name, parts in report["measures"].items():
        for part, m in parts.items():
            click.echo(
                f"  {name:>8} on {part}: {m['rows']:,} rows, {m['frauds']:,} frauds, "
                f"AP {m['average_precision']}, recall at budget {m['recall_at_budget']}"
            )
    sources = {
        "decisions": str(decisions_path.resolve()), "labels": str(labels.resolve()),
        "labels_known_at_ms": cutoff, "truth": str(truth.resolve()) if truth else None,
        "history": str(history.resolve()) if history else None,
    }  # fmt: skip
    registry = ModelRegistry.from_settings(settings)
    entry = register_retrained(
        registry, result, sources, settings.project_root, FEATURE_SET_VERSION
    )
    click.echo(
        f"{result.winner} won: challenger {entry.version} registered "
        f"({entry.path / REPORT_MD}); promote with: fraudguard model promote {entry.version}"
    )
    fitted = report.get("fitted_tiers")
    if fitted is not None:
        click.echo(
            f"its tiers at the shares the tiers in force stopped ({fitted['stop_share']:.3%}) "
            f"and blocked ({fitted['block_share']:.3%}): review {fitted['review']:.6g}, block "
            f"{fitted['block']:.6g} in {entry.path / TIERS_FILE}; a retrained model's scores "
            "have a scale of their own, so publish them when it is promoted: "
            f"fraudguard thresholds publish {entry.path / TIERS_FILE}"
        )


COMMANDS: list[click.Command] = [retrain]
