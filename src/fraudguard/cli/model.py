"""`fraudguard model ...`: the model registry, its champion and shadow challenger, the gates
between them and the automatic lifecycle's kill switch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from fraudguard.config import Settings


@click.group()
def model() -> None:
    """Registered models and the champion the job serves."""


@model.command("list")
@click.pass_obj
def list_models(settings: Settings) -> None:
    """Every registered model, oldest first; * marks the champion, ~ the challenger."""
    from fraudguard.features import FEATURE_SET_VERSION
    from fraudguard.models import ModelRegistry

    registry = ModelRegistry.from_settings(settings)
    entries = registry.entries()
    if not entries:
        click.echo(f"no models in {registry.root}; train one with `fraudguard train`")
        return
    pointer = registry.pointer()
    champion, challenger = pointer.champion, pointer.challenger
    click.echo(
        f"  {'version':<28} {'created (UTC)':<21} {'feature set':<18} {'weight':>7} "
        f"{'test AP':>8} {'fraud rate':>10}"
    )
    for entry in entries:
        meta = entry.metadata
        test = meta.metrics.get("test", {})
        ap, rate = test.get("average_precision"), test.get("fraud_rate")
        stale = "" if meta.feature_set_version == FEATURE_SET_VERSION else " (not current)"
        click.echo(
            f"{'*' if entry.version == champion else '~' if entry.version == challenger else ' '}"
            f" {entry.version:<28} "
            f"{meta.created_at:<21} {meta.feature_set_version + stale:<18} "
            f"{meta.scale_pos_weight:>7g} {'n/a' if ap is None else f'{ap:.4f}':>8} "
            f"{'n/a' if rate is None else f'{rate:.3%}':>10}"
        )


@model.command()
@click.pass_obj
def status(settings: Settings) -> None:
    """The champion, the shadow challenger, the freeze and the newest retrain with its report's
    verdict (the governor's rounds: `fraudguard governor status`)."""
    from fraudguard.models import ModelRegistry
    from fraudguard.training.retrain_report import newest
    from fraudguard.wire.transactions import format_event_time

    registry = ModelRegistry.from_settings(settings)
    pointer = registry.pointer()
    click.echo(f"champion:   {pointer.champion or 'none (the rules decide)'}"
               + (f" since {pointer.promoted_at}" if pointer.promoted_at else ""))  # fmt: skip
    click.echo(f"challenger: {pointer.challenger or 'none'}"
               + (f" since {pointer.challenger_since}" if pointer.challenger else ""))  # fmt: skip
    click.echo(f"automatic changes: {'frozen: ' + pointer.frozen if pointer.frozen else 'may act'}")
    r = newest(registry)
    if r is None:
        click.echo("last retrain: none (`fraudguard retrain`)")
        return
    click.echo(f"last retrain: {r['version']} at {r['created_at']}, {r['winner']} won")
    if r["report_error"]:
        click.echo(f"  {r['report_error']}")
        return
    ap, recall = r["winner_margin"]["average_precision"], r["winner_margin"]["recall_at_budget"]
    click.echo(
        f"  by {'n/a' if ap is None else f'{ap:+.4f}'} average precision on the unbiased sample "
        f"(recall at budget {'n/a' if recall is None else f'{recall:+.4f}'})"
    )
    click.echo(
        f"  labels known at {format_event_time(r['cutoff_ms'])}, test from "
        f"{format_event_time(r['test_from_ms'])}; trained on {r['training_rows']:,} decisions, "
        f"{r['training_frauds']:,} known frauds"
    )


@model.command()
@click.argument("version")
@click.pass_obj
def show(settings: Settings, version: str) -> None:
    """A model's metadata (JSON) and where its files are."""
    from fraudguard.models import ModelRegistry
    from fraudguard.models.registry import metadata_json

    entry = ModelRegistry.from_settings(settings).get(version)
    click.echo(metadata_json(entry))
    click.echo(f"folder: {entry.path}", err=True)


@model.command()
@click.argument("version")
@click.pass_obj
def promote(settings: Settings, version: str) -> None:
    """Make VERSION the champion (refused if it was trained on another feature set)."""
    from fraudguard.control.changes import promote_model

    change = promote_model(settings, version)
    if change.before == change.after:
        click.echo(f"champion: {change.after} (unchanged)")
    else:
        click.echo(f"champion: {change.after} (was {change.before or 'none'})")


@model.command()
@click.argument("version", required=False)
@click.option("--clear", is_flag=True, help="Stop scoring a challenger.")
@click.pass_obj
def challenger(settings: Settings, version: str | None, clear: bool) -> None:
    """Score VERSION beside the champion as a shadow challenger: its score goes into every
    decision record (challenger_score), and it decides nothing."""
    from fraudguard.control.changes import set_challenger
    from fraudguard.errors import ConfigError

    if clear == (version is not None):
        raise ConfigError("give a VERSION or --clear")
    change = set_challenger(settings, version)
    click.echo(f"challenger: {change.after or 'none'} (was {change.before or 'none'})")


DECISIONS = click.Path(exists=True, dir_okay=False, path_type=Path)


def _log(decisions: Path, labels: Path | None, known_at: str | None) -> Any:
    from fraudguard.models.governor import DecisionLog
    from fraudguard.wire.times import to_ms

    return DecisionLog.from_files(decisions, labels, to_ms(known_at, "--labels-known-at"))


@model.command()
@click.argument("decisions", type=DECISIONS)
@click.option("--labels", type=DECISIONS, default=None, help="Labels file (ours).")
@click.option("--labels-known-at", default=None, help="Cut-off for labels [default: all].")
@click.pass_obj
def compare(settings: Settings, decisions: Path, labels: Path | None,
            labels_known_at: str | None) -> None:  # fmt: skip
    """Champion against challenger on DECISIONS (`fraudguard log export` or a backtest): average
    precision on matured labels and on the unbiased explored sample, score PSI, scoring cost,
    and whether the promotion gate would let the challenger through."""
    from fraudguard.models import ModelRegistry
    from fraudguard.models.gates import promotion_verdict
    from fraudguard.models.governor import comparison

    measured = comparison(_log(decisions, labels, labels_known_at),
                          ModelRegistry.from_settings(settings))  # fmt: skip
    for key, value in measured.to_dict().items():
        click.echo(f"{key:<24} {'n/a' if value is None else value}")
    verdict = promotion_verdict(measured, settings.gates)
    click.echo("promotion gate: " + ("passes" if verdict.allowed else "; ".join(verdict.reasons)))


@model.command()
@click.argument("decisions", type=DECISIONS)
@click.option("--labels", type=DECISIONS, default=None, help="Labels file (ours).")
@click.option("--labels-known-at", default=None, help="Cut-off for labels [default: all].")
@click.option(
    "--thresholds",
    "thresholds_path",
    type=DECISIONS,
    default=None,
    help="The tiers in force [default: the built-in tiers].",
)
@click.option("--dry-run", is_flag=True, help="Say what would happen; change nothing.")
@click.pass_obj
def govern(
    settings: Settings, decisions: Path, labels: Path | None, labels_known_at: str | None,
    thresholds_path: Path | None, dry_run: bool,
) -> None:  # fmt: skip
    """One round of the automatic lifecycle over DECISIONS: roll back a new champion whose
    rates left their band, else promote the challenger if the gates allow; nothing while
    frozen. The action and its reasons go to the control topic."""
    from fraudguard.control.changes import record_model_action
    from fraudguard.decision import BUILTIN_TIERS, load_tiers
    from fraudguard.models import ModelRegistry
    from fraudguard.models.governor import govern as run

    tiers = load_tiers(thresholds_path) if thresholds_path else BUILTIN_TIERS
    log = _log(decisions, labels, labels_known_at)
    registry = ModelRegistry.from_settings(settings)
    action = run(log, registry, tiers, settings.gates, apply=not dry_run)
    click.echo(f"{action.action} {action.version or ''}: {'; '.join(action.reasons)}")
    if not dry_run:
        record_model_action(settings, action.action, action.version, action.reasons, action.at_ms)


@model.command()
@click.option("--reason", required=True, help="Why: it is kept in the registry's pointer.")
@click.pass_obj
def freeze(settings: Settings, reason: str) -> None:
    """Stop every automatic promotion and rollback (people can still act by hand)."""
    from fraudguard.models import ModelRegistry

    ModelRegistry.from_settings(settings).freeze(reason)
    click.echo(f"frozen: {reason}")


@model.command()
@click.pass_obj
def unfreeze(settings: Settings) -> None:
    """Let the automatic lifecycle act again."""
    from fraudguard.models import ModelRegistry

    ModelRegistry.from_settings(settings).freeze(None)
    click.echo("automatic model changes may act again")


@model.command()
@click.pass_obj
def rollback(settings: Settings) -> None:
    """Return to the previous champion."""
    from fraudguard.control.changes import roll_back_model

    change = roll_back_model(settings)
    click.echo(f"champion: {change.after} (was {change.before})")


COMMANDS: list[click.Command] = [model]
