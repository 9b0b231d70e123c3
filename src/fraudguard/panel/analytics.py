"""How the review team works: cases opened and closed per day, time to close, agreement between
the first analyst and the lead on escalated cases (Cohen's kappa), and the false-positive rate
per tier and segment (closed cases found legitimate).

>>> cohens_kappa(["fraud", "legit", "fraud", "legit"], ["fraud", "legit", "fraud", "legit"])
1.0
>>> cohens_kappa(["fraud", "fraud", "legit", "legit"], ["fraud", "legit", "fraud", "legit"])
0.0
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlalchemy import Engine, select

from fraudguard.panel import tables as t

DAY_MS = 86_400_000


def cohens_kappa(first: Sequence[str], second: Sequence[str]) -> float | None:
    """Agreement of two raters beyond chance; None without pairs or when chance is certain."""
    if not first:
        return None
    n = len(first)
    observed = sum(a == b for a, b in zip(first, second, strict=True)) / n
    counts_a, counts_b = Counter(first), Counter(second)
    expected = sum(counts_a[k] * counts_b[k] for k in set(counts_a) | set(counts_b)) / (n * n)
    if expected == 1.0:
        return None
    return round((observed - expected) / (1 - expected), 4)


def review_analytics(engine: Engine, days: int = 30, now_ms: int | None = None) -> dict[str, Any]:
    import time

    now_ms = now_ms or int(time.time() * 1000)
    since = (now_ms // DAY_MS - days + 1) * DAY_MS
    c = t.cases.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                c.opened_at_ms,
                c.closed_at_ms,
                c.status,
                c.first_verdict,
                c.final_verdict,
                c.first_by,
                c.final_by,
                c.tier,
                c.mcc,
                c.channel,
            ).where(c.opened_at_ms >= since)
        ).all()
    labels = [_day(since + i * DAY_MS) for i in range(days)]
    opened, closed = [0] * days, [0] * days
    hours_to_close = []
    pairs: list[tuple[str, str]] = []
    per_tier: dict[str, list[int]] = {}
    per_segment: dict[str, list[int]] = {}
    for row in rows:
        opened[min((row.opened_at_ms - since) // DAY_MS, days - 1)] += 1
        if row.closed_at_ms is not None and row.closed_at_ms >= since:
            closed[min((row.closed_at_ms - since) // DAY_MS, days - 1)] += 1
            hours_to_close.append((row.closed_at_ms - row.opened_at_ms) / 3_600_000)
        if row.status == "closed" and row.first_verdict and row.final_by != row.first_by:
            pairs.append((row.first_verdict, row.final_verdict))
        if row.status == "closed":
            legit = int(row.final_verdict == "legit")
            for table, key in ((per_tier, row.tier), (per_segment, f"{row.mcc} {row.channel}")):
                counts = table.setdefault(key, [0, 0])
                counts[0] += 1
                counts[1] += legit
    hours = np.array(hours_to_close) if hours_to_close else None
    return {
        "days": labels,
        "opened": opened,
        "closed": closed,
        "time_to_close_hours": {
            "median": None if hours is None else round(float(np.median(hours)), 2),
            "p90": None if hours is None else round(float(np.quantile(hours, 0.9)), 2),
        },
        "escalated_pairs": len(pairs),
        "kappa": cohens_kappa([a for a, _ in pairs], [b for _, b in pairs]),
        "false_positive_rate": {
            "tier": _rates(per_tier),
            "segment": _rates(per_segment),
        },
    }


def _rates(table: dict[str, list[int]]) -> list[dict[str, Any]]:
    return [
        {"key": key, "closed": n, "legitimate": legit, "rate": round(legit / n, 4)}
        for key, (n, legit) in sorted(table.items())
    ]


def _day(ms: int) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%d")


def to_csv(analytics: dict[str, Any], part: str) -> str:
    """One part of the analytics as CSV: ``daily``, ``tier`` or ``segment``."""
    out = io.StringIO()
    writer = csv.writer(out)
    if part == "daily":
        writer.writerow(["day", "opened", "closed"])
        writer.writerows(
            zip(analytics["days"], analytics["opened"], analytics["closed"], strict=True)
        )
    else:
        writer.writerow([part, "closed", "legitimate", "false_positive_rate"])
        for row in analytics["false_positive_rate"][part]:
            writer.writerow([row["key"], row["closed"], row["legitimate"], row["rate"]])
    return out.getvalue()
