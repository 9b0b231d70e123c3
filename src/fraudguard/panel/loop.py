"""What the learning loop did, for the Models page: the labels that came in per day and source
(the chargebacks, investigations and analysts' verdicts the retraining learns from), and the
newest retrain with the report that says which model won and by how much.

The champion against its challenger and the governor's promotions and rollbacks are beside
them in :mod:`fraudguard.panel.models`.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Engine, func, select

from fraudguard.config import Settings
from fraudguard.models.registry import ModelRegistry
from fraudguard.panel import tables as t
from fraudguard.training import retrain_report

DAY_MS = 86_400_000
LABELS = ("fraud", "legit")


def labels_per_day(engine: Engine, days: int = 30, now_ms: int | None = None) -> dict[str, Any]:
    """Label records per UTC day (by when they were reported) and source, fraud and legitimate
    apart, for the last ``days`` days, today included, oldest first, days without labels
    included. A correction is a record of its own, so a payment may count twice.

    One GROUP BY over the ``labels_reported`` index: it is what the query reads, whatever the
    table holds beyond the window.
    """
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    since = (now_ms // DAY_MS - days + 1) * DAY_MS
    until = since + days * DAY_MS
    lab = t.labels.c
    # The day as its first millisecond: integer arithmetic on both databases.
    day = lab.reported_at_ms - lab.reported_at_ms % DAY_MS
    with engine.connect() as conn:
        rows = conn.execute(
            select(day.label("d"), lab.source, lab.label, func.count())
            .where(lab.reported_at_ms >= since, lab.reported_at_ms < until)
            .group_by("d", lab.source, lab.label)
        ).all()
    sources = sorted({source for _, source, _, _ in rows})
    per_day = {since + i * DAY_MS: {s: dict.fromkeys(LABELS, 0) for s in sources}
               for i in range(days)}  # fmt: skip
    totals = {s: dict.fromkeys(LABELS, 0) for s in sources}
    for day_ms, source, label, n in rows:
        per_day[int(day_ms)][source][label] += n
        totals[source][label] += n
    return {
        "days": days, "from_ms": since, "until_ms": until, "sources": sources, "totals": totals,
        "per_day": [{"day_ms": d, "sources": counts} for d, counts in per_day.items()],
    }  # fmt: skip


def last_retrain(settings: Settings) -> dict[str, Any]:
    """The newest model ``fraudguard retrain`` registered and what its report says, with
    whether it is the champion or the shadow challenger now."""
    registry = ModelRegistry.from_settings(settings)
    pointer = registry.pointer()
    newest = retrain_report.newest(registry)
    if newest is not None:
        newest["champion"] = newest["version"] == pointer.champion
        newest["challenger"] = newest["version"] == pointer.challenger
    return {"retrain": newest}
