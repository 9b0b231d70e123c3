"""`fraudguard backtest`: what the job would have decided on a historical file, offline, with
a report; a scenario file (replay/scenarios/) holds the same options for a repeatable run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from fraudguard.config import Settings
from fraudguard.errors import ConfigError

PATH = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.command()
@click.argument("source", type=PATH, required=False)
@click.option(
    "--scenario",
    "scenario_path",
    type=PATH,
    default=None,
    help="A scenario file (replay/scenarios/*.yaml): source, models, tiers, period and costs; "
    "options given here override it.",
)
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
@click.option(
    "--reranker",
    default=None,
    help="Re-score with a published re-ranker snapshot: `current` or its version (read from "
    "the control topic) [default: none].",
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
    help="Labels file: ours, or with --mapping the mapping's separate labels file [default: "
    "the mapping's labels, or SOURCE's .labels file].",
)
@click.option(
    "--labels-known-at",
    default=None,
    help="Cut-off for labels: later reports are not used [default: --to].",
)
@click.option(
    "--cost-fp",
    type=click.FloatRange(min=0),
    default=2.0,
    show_default=True,
    help="Euro of friction per legitimate payment blocked.",
)
@click.option(
    "--cost-review",
    type=click.FloatRange(min=0),
    default=4.0,
    show_default=True,
    help="Euro per review.",
)
@click.option(
    "--review-minutes",
    type=click.FloatRange(min=0, min_open=True),
    default=5.0,
    show_default=True,
    help="Analyst minutes per review (review hours per day).",
)
@click.option(
    "--top-k",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="Cards checked per day: the k of card precision@k.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the decisions, summary.json and report/ [default: backtests/NAME with "
    "a scenario, else backtest].",
)
@click.pass_context
def backtest(ctx: click.Context, source: Path | None, scenario_path: Path | None,
             **options: Any) -> None:  # fmt: skip
    """Decide every payment of SOURCE as the job would (its feature kernel, scorer, tiers and
    exploration), offline, streaming the file; optionally a second configuration beside it.
    Writes the decisions and a report (report.md, report.json, report.html, plots) to OUT."""
    from fraudguard.backtest.experiment import run_experiment
    from fraudguard.backtest.scenario import Scenario, load_scenario

    settings: Settings = ctx.obj
    given = {k: v for k, v in options.items()
             if ctx.get_parameter_source(k) is not ParameterSource.DEFAULT}  # fmt: skip
    from fraudguard.wire.times import to_ms

    for name, option in (("from_date", "--from"), ("to_date", "--to"),
                         ("labels_known_at", "--labels-known-at")):  # fmt: skip
        to_ms(given.get(name), option)  # refused with the option's name, before any work
    if scenario_path is not None:
        scenario = load_scenario(scenario_path)
    elif source is None:
        raise ConfigError("give a SOURCE file or --scenario")
    else:
        plain = {"name": "backtest", "source": {"file": source}, "out": Path("backtest")}
        scenario = Scenario.model_validate(plain).resolved(Path("."))
    scenario = _overridden(scenario, source, given, options)
    result = run_experiment(scenario, settings, echo=click.echo)
    summary = result.summary
    for arm in ("baseline", "compare"):
        if arm in summary:
            s = summary[arm]
            counts = ", ".join(f"{d} {n:,}" for d, n in s["decisions"].items())
            click.echo(f"{arm}: {s['model_version']} / {s['threshold_version']}: {counts}; "
                       f"{s['explored']:,} explored -> {s['decisions_file']}")  # fmt: skip
    if summary.get("labels_file") is not None:
        from fraudguard.features.labels import usage_line

        click.echo(usage_line(summary["feature_labels"]))
    click.echo(f"{summary['transactions']:,} transactions in {summary['elapsed_s']:.1f}s "
               f"({summary['throughput_tps']:,} tx/s); report: {result.report['md']}, "
               f"{result.report['html']}")  # fmt: skip


def _overridden(scenario: Any, source: Path | None, given: dict[str, Any],
                options: dict[str, Any]) -> Any:  # fmt: skip
    """The scenario with the options given on the command line in place of its own."""
    doc = scenario.model_dump(by_alias=True)
    if source is not None:
        doc["source"] = {"file": source, "mapping": None, "labels": None, "generate": None}
    places = {
        "mapping_path": ("source", "mapping"), "labels_path": ("source", "labels"),
        "model": ("baseline", "model"), "thresholds_path": ("baseline", "thresholds"),
        "reranker": ("baseline", "reranker"),
        "compare_model": ("compare", "model"), "compare_thresholds_path": ("compare", "thresholds"),
        "from_date": ("period", "from"), "to_date": ("period", "to"),
        "labels_known_at": ("period", "labels_known_at"), "cost_fp": ("costs", "fp_eur"),
        "cost_review": ("costs", "review_eur"), "review_minutes": ("costs", "review_minutes"),
        "top_k": ("costs", "top_k"),
    }  # fmt: skip
    for option, (section, key) in places.items():
        if option in given:
            doc[section] = {**(doc.get(section) or {}), key: given[option]}
    if "out" in given:
        doc["out"] = given["out"]
    from fraudguard.backtest.scenario import Scenario

    return Scenario.model_validate(doc)


COMMANDS: list[click.Command] = [backtest]
