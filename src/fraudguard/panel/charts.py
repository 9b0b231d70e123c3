"""Small SVG charts drawn on the server: no chart library, nothing fetched by the browser.

Values go into the SVG as numbers and labels through :func:`html.escape`, so a chart is safe to
insert into a page.

>>> svg = bar_chart({"old": [1, 2], "new": [2, 3]}, ["Mon", "Tue"], title="alerts")
>>> svg.startswith("<svg") and svg.count("<rect") == 4 + 1 + 2  # bars, background, legend
True
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

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


def contribution_chart(contributions: Sequence[tuple[str, float]], title: str) -> str:
    """Horizontal bars around zero: red pushes the score up, green pulls it down."""
    row_h, label_w = 18, 250
    height = PAD + row_h * max(len(contributions), 1) + 10
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{html.escape(title)}" class="chart">',
        f'<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#fff"/>',
        f'<text x="8" y="16" class="chart-title">{html.escape(title)}</text>',
    ]
    top = max([abs(v) for _, v in contributions] + [1e-9])
    zero = label_w + (WIDTH - label_w - PAD) / 2
    half = (WIDTH - label_w - PAD) / 2
    for i, (name, value) in enumerate(contributions):
        y = PAD + i * row_h
        w = half * abs(value) / top
        x = zero if value >= 0 else zero - w
        colour = "#c2410c" if value >= 0 else "#15803d"
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 12}" text-anchor="end" class="chart-axis">'
            f"{html.escape(name)}</text>"
        )
        parts.append(
            f'<rect x="{x:.1f}" y="{y + 2}" width="{w:.1f}" height="{row_h - 5}" '
            f'fill="{colour}"><title>{html.escape(name)}: {value:+.4f}</title></rect>'
        )
    parts.append(
        f'<line x1="{zero:.1f}" x2="{zero:.1f}" y1="{PAD - 4}" y2="{height - 6}" stroke="#6b7280"/>'
    )
    parts.append("</svg>")
    return "".join(parts)
