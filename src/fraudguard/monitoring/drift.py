"""Population stability: how far the scores and features a model sees have moved from those it
was trained on.

When a model is trained, :func:`reference` records the distribution of its scores and of its
most important features on the held-out test period: bin edges (deciles, so each bin starts
with a tenth of the rows, plus one bin for missing values) and the share of rows in each. Later,
:func:`psi` compares values seen live with that reference::

    PSI = sum over bins of (live share - reference share) * ln(live share / reference share)

A PSI under 0.1 is usually read as no shift, 0.1 to 0.2 as moderate, and over 0.2 as a shift
worth a look (the panel's alert threshold).

>>> rng = np.random.default_rng(0)
>>> ref = distribution(rng.normal(size=10_000))
>>> round(psi(ref, rng.normal(size=5_000)), 3) < 0.02
True
>>> psi(ref, rng.normal(size=5_000) * 3) > 0.2
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

BINS = 10
EPSILON = 1e-4
"""Share given to an empty bin, so the logarithm stays finite."""
ALERT_PSI = 0.2


def distribution(values: np.ndarray, bins: int = BINS) -> dict[str, Any]:
    """Decile edges of ``values`` (finite ones) and the share of rows per bin, missing last.

    >>> distribution(np.array([1.0, 2.0, 3.0, 4.0, np.nan]), bins=2)
    {'edges': [2.5], 'shares': [0.4, 0.4, 0.2]}
    >>> two_values = distribution(np.array([0.004] * 9 + [0.98]))
    >>> two_values["edges"], psi(two_values, np.array([0.00400001] * 9 + [0.98])) < 1e-9
    ([0.492], True)
    """
    values = np.asarray(values, dtype=np.float64)
    finite = values[np.isfinite(values)]
    edges: list[float] = []
    if len(finite):
        # An edge never sits on a value seen: it goes halfway to the next distinct value, so
        # the same value computed a little differently live (float32 here, the JVM there)
        # falls in the same bin as in training.
        distinct = np.unique(finite)
        for q in np.unique(np.quantile(finite, np.linspace(0, 1, bins + 1)[1:-1])):
            above = int(np.searchsorted(distinct, q, side="right"))
            if 0 < above < len(distinct):
                edges.append(float((distinct[above - 1] + distinct[above]) / 2))
        if len(distinct) == 1:  # a constant: any other value live is a shift
            tolerance = max(abs(float(distinct[0])) * 1e-6, 1e-9)
            edges = [float(distinct[0]) - tolerance, float(distinct[0]) + tolerance]
        edges = sorted(set(edges))
    return {"edges": edges, "shares": shares(edges, values)}


def shares(edges: Sequence[float], values: np.ndarray) -> list[float]:
    """The share of ``values`` in each bin of ``edges``, missing values in a last bin."""
    values = np.asarray(values, dtype=np.float64)
    if not len(values):
        return [0.0] * (len(edges) + 2)
    finite = np.isfinite(values)
    counts = np.bincount(
        np.searchsorted(edges, values[finite], side="right"), minlength=len(edges) + 1
    )
    counted = np.append(counts, (~finite).sum()) / len(values)
    return [round(float(s), 6) for s in counted]


def psi(reference_bins: dict[str, Any], values: np.ndarray) -> float:
    """Population stability index of ``values`` against a :func:`distribution`."""
    expected = np.maximum(np.asarray(reference_bins["shares"], dtype=np.float64), EPSILON)
    actual = np.maximum(np.asarray(shares(reference_bins["edges"], values)), EPSILON)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def reference(
    scores: np.ndarray,
    rows: np.ndarray,
    names: Sequence[str],
    importance: dict[str, float],
    top: int = 20,
) -> dict[str, Any]:
    """What a model saw on its test period: the distribution of its scores and of its ``top``
    most important features (by total gain), for later :func:`psi` comparisons."""
    ranked = [name for name in importance if name in names][:top]
    index = {name: i for i, name in enumerate(names)}
    return {
        "format": "fraudguard-reference-1",
        "rows": int(len(scores)),
        "score": distribution(scores),
        "features": {name: distribution(rows[:, index[name]]) for name in ranked},
    }
