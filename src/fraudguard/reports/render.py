"""A report's numbers as files a fraud team reads: ``report.json`` (every number),
``report.md`` (tables, linking the plots), ``report.html`` (the same, plots embedded, one file
to mail) and the plots as PNG."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import orjson
from jinja2 import Environment, PackageLoader, select_autoescape

PLOTS = ("pr_curve", "thresholds", "cost_curve", "daily_alerts", "card_precision")
"""The plots a report draws, each ``<name>.png`` beside the report (when its data exists)."""


def _pyplot():  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")  # files only: never a window, whatever the machine has
    import matplotlib.pyplot as plt

    return plt


def draw_plots(report: dict[str, Any], folder: Path) -> list[str]:
    """The report's plots as PNG files in ``folder``; returns the names drawn."""
    plt = _pyplot()
    configs = report["configs"]
    labelled = [c for c in configs if c["labelled"]]
    drawn: list[str] = []

    def save(fig, name: str) -> None:  # type: ignore[no-untyped-def]
        fig.tight_layout()
        fig.savefig(folder / f"{name}.png", dpi=96)
        plt.close(fig)
        drawn.append(name)

    if labelled:
        fig, ax = plt.subplots(figsize=(6, 4))
        for c in labelled:
            pr = c["pr_curve"]
            ax.step(pr["recall"], pr["precision"], where="post",
                    label=f"{_label(c)} (AP {pr['average_precision']})")  # fmt: skip
        ax.set(xlabel="recall", ylabel="precision", xlim=(0, 1), ylim=(0, 1.02),
               title="Precision and recall over the score threshold")  # fmt: skip
        ax.legend(fontsize=8)
        save(fig, "pr_curve")

        fig, ax = plt.subplots(figsize=(6, 4))
        for c in labelled:
            rows = [r for r in c["thresholds"] if r["precision"] is not None]
            x = [r["threshold"] for r in rows]
            for metric, style in (("precision", "-"), ("recall", "--"),
                                  ("false_positive_rate", ":")):  # fmt: skip
                ax.plot(x, [r[metric] for r in rows], style, label=f"{metric} {_label(c)}")
        ax.set(xlabel="score threshold", ylim=(0, 1.02), title="Rates per threshold")
        ax.legend(fontsize=7)
        save(fig, "thresholds")

        fig, ax = plt.subplots(figsize=(6, 4))
        for c in labelled:
            cc = c["cost_curve"]
            line = ax.plot(cc["block_threshold"], cc["net_eur"], label=_label(c))[0]
            ax.axvline(c["block_threshold"], color=line.get_color(), linestyle=":", linewidth=1)
        s = report["settings"]
        ax.set(xlabel="block threshold (review threshold held)", ylabel="net euro",
               title=f"Fraud stopped - {s['cost_fp_eur']} EUR per blocked legitimate payment"
                     f" - {s['cost_review_eur']} EUR per review")  # fmt: skip
        ax.title.set_fontsize(8)
        ax.legend(fontsize=8)
        save(fig, "cost_curve")

    if configs[0]["daily"]:
        fig, ax = plt.subplots(figsize=(7, 4))
        for c in configs:
            days = [d["day"][5:] for d in c["daily"]]
            ax.plot(
                days, [d["alerts"] for d in c["daily"]], marker=".", label=f"alerts {_label(c)}"
            )
            ax.plot(days, [d["review_hours"] for d in c["daily"]], linestyle="--",
                    label=f"review hours {_label(c)}")  # fmt: skip
        ax.set(xlabel="day (UTC)", title="Alerts and review hours per day")
        ax.tick_params(axis="x", labelrotation=60, labelsize=7)
        ax.legend(fontsize=7)
        save(fig, "daily_alerts")

    if labelled and any(d["card_precision_at_k"] is not None for d in labelled[0]["daily"]):
        fig, ax = plt.subplots(figsize=(7, 4))
        for c in labelled:
            days = [d["day"][5:] for d in c["daily"]]
            ax.plot(days, [d["card_precision_at_k"] for d in c["daily"]], marker=".",
                    label=_label(c))  # fmt: skip
        ax.set(xlabel="day (UTC)", ylim=(0, 1.02),
               title=f"Card precision@{report['settings']['top_k']} per day")  # fmt: skip
        ax.tick_params(axis="x", labelrotation=60, labelsize=7)
        ax.legend(fontsize=8)
        save(fig, "card_precision")
    return drawn


def _label(config: dict[str, Any]) -> str:
    model, tiers = config.get("model_version"), config.get("threshold_version")
    return f"{config['name']}: {model} / {tiers}" if model else config["name"]


def write_report(report: dict[str, Any], folder: Path, title: str) -> dict[str, Path]:
    """``report.json``, ``report.md``, ``report.html`` and the plots, in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    report = {**report, "title": title}
    plots = draw_plots(report, folder)
    paths = {"json": folder / "report.json", "md": folder / "report.md",
             "html": folder / "report.html"}  # fmt: skip
    paths["json"].write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    env = Environment(
        loader=PackageLoader("fraudguard.reports", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = _num
    images = {name: f"{name}.png" for name in plots}
    paths["md"].write_text(env.get_template("report.md.j2").render(r=report, images=images))
    embedded = {
        name: "data:image/png;base64," + base64.b64encode((folder / f"{name}.png").read_bytes())
        .decode() for name in plots
    }  # fmt: skip
    paths["html"].write_text(env.get_template("report.html.j2").render(r=report, images=embedded))
    return paths


def _num(value: Any, key: str = "") -> str:
    """A number for a table: thousands separated, euro to the cent, ratios to three places,
    missing shown as a dash.

    >>> _num(1234567), _num(0.123456), _num(None), _num(12.5), _num(0.5, "amount_eur")
    ('1,234,567', '0.123', '-', '12.50', '0.50')
    """
    if value is None:
        return "-"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if abs(value) < 1 and "eur" not in key:
        return f"{value:.3f}"
    return f"{value:,.2f}"
