"""Small SVG charts drawn on the server: no chart library, nothing fetched by the browser.

Values go into the SVG as numbers and labels through :func:`html.escape`, so a chart is safe to
insert into a page.

>>> svg = bar_chart({"old": [1, 2], "new": [2, 3]}, ["Mon", "Tue"], title="alerts")
>>> svg.startswith("<svg") and svg.count("<rect") == 4 + 1 + 2  # bars, background, legend
True
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Mapping, Sequence
from typing import Any

WIDTH, HEIGHT, PAD = 640, 220, 36
COLOURS = ("#8a94a6", "#c2410c", "#1d4ed8", "#15803d")


def _frame(title: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-label="{html.escape(title)}" class="chart">',
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#fff"/>',
        f'<text x="{PAD}" y="16" class="chart-title">{html.escape(title)}</text>',
    ]


def _legend(names: Sequence[str], first_colour: int = 0) -> list[str]:
    """Keys under the title, right-aligned, in the colours the series are drawn in."""
    parts = []
    for i, name in enumerate(names):
        x = WIDTH - PAD - 160 * (len(names) - i)
        colour = COLOURS[(first_colour + i) % 4]
        parts.append(f'<rect x="{x}" y="21" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{x + 14}" y="30" class="chart-legend">{html.escape(name)}</text>')
    return parts


def bar_chart(series: Mapping[str, Sequence[float]], labels: Sequence[str], title: str) -> str:
    """Grouped bars: one group per label, one bar per series."""
    parts = _frame(title) + _legend(list(series))
    top = max([max(values, default=0) for values in series.values()] + [1])
    groups = max(len(labels), 1)
    group_w = (WIDTH - 2 * PAD) / groups
    bar_w = group_w * 0.8 / max(len(series), 1)
    plot_h = HEIGHT - 2 * PAD
    for s, (name, values) in enumerate(series.items()):
        for g, value in enumerate(values):
            h = plot_h * value / top
            x = PAD + g * group_w + group_w * 0.1 + s * bar_w
            parts.append(
                f'<rect x="{x:.1f}" y="{HEIGHT - PAD - h:.1f}" width="{bar_w:.1f}" '
                f'height="{h:.1f}" fill="{COLOURS[s % 4]}"><title>{html.escape(name)} '
                f"{html.escape(str(labels[g]) if g < len(labels) else '')}: {value:g}"
                "</title></rect>"
            )
    for g, label in enumerate(labels):
        if groups <= 14 or g % (groups // 7 + 1) == 0:
            x = PAD + g * group_w + group_w / 2
            parts.append(
                f'<text x="{x:.1f}" y="{HEIGHT - PAD + 14}" class="chart-axis" '
                f'text-anchor="middle">{html.escape(str(label))}</text>'
            )
    parts.append(f'<text x="4" y="{PAD}" class="chart-axis">{top:g}</text>')
    parts.append("</svg>")
    return "".join(parts)


def histogram(counts: Sequence[int], lines: Mapping[str, Sequence[float]], title: str) -> str:
    """Score histogram over [0, 1] (log-scaled heights: the tail is where thresholds sit),
    with vertical lines at thresholds, one colour per named set."""
    import math

    parts = _frame(title) + _legend(list(lines), first_colour=1)
    plot_w, plot_h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD
    top = math.log1p(max(counts, default=0) or 1)
    bar_w = plot_w / max(len(counts), 1)
    for i, n in enumerate(counts):
        h = plot_h * math.log1p(n) / top
        parts.append(
            f'<rect x="{PAD + i * bar_w:.1f}" y="{HEIGHT - PAD - h:.1f}" width="{bar_w * 0.9:.1f}" '
            f'height="{h:.1f}" fill="#cbd5e1"><title>{i / len(counts):.2f}-'
            f"{(i + 1) / len(counts):.2f}: {n}</title></rect>"
        )
    for s, (name, thresholds) in enumerate(lines.items()):
        for threshold in thresholds:
            x = PAD + plot_w * min(max(threshold, 0.0), 1.0)
            parts.append(
                f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{PAD - 8}" y2="{HEIGHT - PAD}" '
                f'stroke="{COLOURS[(s + 1) % 4]}" stroke-width="2" '
                f'stroke-dasharray="{4 + 3 * s} 3">'
                f"<title>{html.escape(name)}: {threshold:g}</title></line>"
            )
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        x = PAD + plot_w * tick
        parts.append(
            f'<text x="{x:.1f}" y="{HEIGHT - PAD + 14}" class="chart-axis" '
            f'text-anchor="middle">{tick:g}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def contribution_chart(
    contributions: Sequence[tuple[str, float]], title: str, width: int = 500
) -> str:
    """Horizontal bars around zero, each with its value: red pushes the score up, green pulls
    it down. Narrower than the other charts: it sits beside its table on the case page."""
    row_h, label_w, value_w = 18, 180, 44
    height = PAD + row_h * max(len(contributions), 1) + 10
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{html.escape(title)}" class="chart">',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#fff"/>',
        f'<text x="8" y="16" class="chart-title">{html.escape(title)}</text>',
    ]
    top = max([abs(v) for _, v in contributions] + [1e-9])
    half = (width - label_w - 2 * value_w) / 2
    zero = label_w + value_w + half
    for i, (name, value) in enumerate(contributions):
        y = PAD + i * row_h
        w = half * abs(value) / top
        x = zero if value >= 0 else zero - w
        colour = "#c2410c" if value >= 0 else "#15803d"
        end, anchor = (x + w + 3, "start") if value >= 0 else (x - 3, "end")
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 12}" text-anchor="end" class="chart-axis">'
            f"{html.escape(name)}</text>"
        )
        parts.append(
            f'<rect x="{x:.1f}" y="{y + 2}" width="{w:.1f}" height="{row_h - 5}" '
            f'fill="{colour}"><title>{html.escape(name)}: {value:+.4f}</title></rect>'
        )
        parts.append(
            f'<text x="{end:.1f}" y="{y + 12}" text-anchor="{anchor}" class="chart-axis">'
            f"{value:+.2f}</text>"
        )
    parts.append(
        f'<line x1="{zero:.1f}" x2="{zero:.1f}" y1="{PAD - 4}" y2="{height - 6}" stroke="#6b7280"/>'
    )
    parts.append("</svg>")
    return "".join(parts)


OUTCOME_COLOURS = {"block": "#b91c1c", "review": "#d97706", "approve": "#cbd5e1"}
HOUR_MS = 3_600_000


def outcomes_chart(
    by_hour: Sequence[Mapping[str, Any]], first_hour_ms: int, hours: int, title: str
) -> str:
    """Decisions per hour of ``hours`` hours from ``first_hour_ms``, stacked by outcome (block
    at the bottom, where it stays visible), with a dashed line where the model version changed.

    >>> hours = [{"hour_ms": 0, "approve": 8, "review": 1, "block": 1, "models": ["m1"],
    ...           "model_change": False},
    ...          {"hour_ms": 7_200_000, "approve": 5, "review": 0, "block": 0, "models": ["m2"],
    ...           "model_change": True}]
    >>> svg = outcomes_chart(hours, 0, 3, "per hour")
    >>> svg.count("<line"), svg.count("<rect") - 1 - 3  # background, legend
    (1, 6)
    """
    parts = _frame(title)
    for i, (name, colour) in enumerate(OUTCOME_COLOURS.items()):
        key_x = WIDTH - PAD - 90 * (3 - i)
        parts.append(f'<rect x="{key_x}" y="21" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{key_x + 14}" y="30" class="chart-legend">{name}</text>')
    plot_w, plot_h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD - 10
    top = max([sum(int(h[k]) for k in OUTCOME_COLOURS) for h in by_hour] + [1])
    slot = plot_w / max(hours, 1)
    base_y = HEIGHT - PAD
    for i in range(hours):
        hour_ms = first_hour_ms + i * HOUR_MS
        when = dt.datetime.fromtimestamp(hour_ms / 1000, dt.UTC)
        if i % max(1, hours // 8) == 0:
            parts.append(
                f'<text x="{PAD + (i + 0.5) * slot:.1f}" y="{base_y + 14}" class="chart-axis" '
                f'text-anchor="middle">{when:%d %H}h</text>'
            )
    for hour in by_hour:
        i = (int(hour["hour_ms"]) - first_hour_ms) // HOUR_MS
        if not 0 <= i < hours:
            continue
        x, y = PAD + i * slot, float(base_y)
        when = dt.datetime.fromtimestamp(int(hour["hour_ms"]) / 1000, dt.UTC)
        for name, colour in OUTCOME_COLOURS.items():
            n = int(hour[name])
            bar_h = plot_h * n / top
            y -= bar_h
            parts.append(
                f'<rect x="{x + slot * 0.1:.1f}" y="{y:.1f}" width="{slot * 0.8:.1f}" '
                f'height="{bar_h:.1f}" fill="{colour}"><title>{when:%Y-%m-%d %H}:00 UTC: '
                f"{n} {name}</title></rect>"
            )
        if hour.get("model_change"):
            models = html.escape(", ".join(str(m) for m in hour.get("models", [])))
            parts.append(
                f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{PAD}" y2="{base_y}" stroke="#1d4ed8" '
                f'stroke-width="1.5" stroke-dasharray="4 3"><title>model now {models}</title>'
                f'</line><text x="{x + 3:.1f}" y="{PAD + 8}" class="chart-axis">{models}</text>'
            )
    parts.append(f'<text x="4" y="{PAD + 10}" class="chart-axis">{top:g}</text>')
    parts.append("</svg>")
    return "".join(parts)


def score_chart(
    by_hour: Sequence[Mapping[str, Any]], first_hour_ms: int, hours: int, title: str
) -> str:
    """The score distribution per hour (median, 90th and 99th percentiles, square-root scale so
    the low scores most payments get stay readable), with a dashed line where the model changed.

    >>> hours = [{"hour_ms": 0, "score_quantiles": {"p50": 0.01, "p90": 0.1, "p99": 0.6},
    ...           "model_change": False},
    ...          {"hour_ms": 3_600_000, "score_quantiles": {"p50": 0.02, "p90": 0.2, "p99": 0.7},
    ...           "model_change": True}]
    >>> svg = score_chart(hours, 0, 2, "scores")
    >>> svg.count("<polyline"), svg.count("stroke-dasharray")
    (3, 1)
    """
    parts = _frame(title) + _legend(["p50", "p90", "p99"], first_colour=1)
    slot = (WIDTH - 2 * PAD) / max(hours, 1)
    plot_h = HEIGHT - 2 * PAD

    def y_of(score: float) -> float:
        return HEIGHT - PAD - plot_h * min(max(score, 0.0), 1.0) ** 0.5

    hour_ms = 3_600_000
    for n, name in enumerate(("p50", "p90", "p99")):
        points = [
            f"{PAD + ((int(h['hour_ms']) - first_hour_ms) // hour_ms + 0.5) * slot:.1f},"
            f"{y_of(h['score_quantiles'][name]):.1f}"
            for h in by_hour
            if h.get("score_quantiles")
            and 0 <= (int(h["hour_ms"]) - first_hour_ms) // hour_ms < hours
        ]
        colour = COLOURS[(n + 1) % 4]
        for point in points:  # an hour alone still shows
            cx, cy = point.split(",")
            parts.append(f'<circle cx="{cx}" cy="{cy}" r="2.5" fill="{colour}"/>')
        if points:
            parts.append(
                f'<polyline points="{" ".join(points)}" fill="none" '
                f'stroke="{COLOURS[(n + 1) % 4]}" stroke-width="2"/>'
            )
    for h in by_hour:
        i = (int(h["hour_ms"]) - first_hour_ms) // hour_ms
        if h.get("model_change") and 0 <= i < hours:
            x = PAD + i * slot
            parts.append(
                f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{PAD - 8}" y2="{HEIGHT - PAD}" '
                f'stroke="#1d4ed8" stroke-dasharray="4 3"><title>model changed</title></line>'
            )
    for tick in (0.0, 0.01, 0.1, 0.5, 1.0):
        parts.append(f'<text x="4" y="{y_of(tick) + 3:.1f}" class="chart-axis">{tick:g}</text>')
    parts.append("</svg>")
    return "".join(parts)
