"""The registry's declarations as JSON, for the JVM feature kernel (``io.fraudguard.features``).

The kernel builds its evaluation plans from this document: the declarations, the names (from
:func:`feature_name`), the bucket widths and the euro rates are written in Python once and read
there, never retyped.

>>> from fraudguard.features import FEATURE_NAMES, FEATURE_SET_VERSION
>>> spec = feature_spec()
>>> spec["names"] == list(FEATURE_NAMES), spec["version"] == FEATURE_SET_VERSION
(True, True)
>>> spec["features"][6]["name"], spec["features"][6]["window_ms"], spec["bucket_ms"]["3600000"]
('card_count_10m', 600000, 60000)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fraudguard.features.registry import (
    BUCKET_MS,
    FEATURES,
    HISTORY_MS,
    LABEL_BUCKET_MS,
    NO_PREVIOUS,
    Feature,
    HistoryFeature,
    LabelFeature,
    WindowFeature,
    feature_name,
    feature_set_version,
)
from fraudguard.wire.currency import EUR_RATES, RATES_VERSION


def _declaration(feature: Feature) -> dict[str, Any]:
    out: dict[str, Any] = {"name": feature_name(feature)}
    if isinstance(feature, WindowFeature):
        out.update(
            type="window",
            entity=feature.entity,
            agg=feature.agg,
            column=feature.column,
            window_ms=feature.window_ms,
        )
    elif isinstance(feature, LabelFeature):
        out.update(
            type="label", entity=feature.entity, kind=feature.kind, window_ms=feature.window_ms
        )
    elif isinstance(feature, HistoryFeature):
        out.update(type="history", entity=feature.entity, kind=feature.kind)
    else:
        out.update(type="txn", entity=feature.entity, kind=feature.kind)
    return out


def feature_spec(features: tuple[Feature, ...] = FEATURES) -> dict[str, Any]:
    """Everything the JVM kernel needs to evaluate ``features`` exactly as the engine does."""
    return {
        "version": feature_set_version(features),
        "names": [feature_name(f) for f in features],
        "features": [_declaration(f) for f in features],
        "bucket_ms": {str(window): bucket for window, bucket in BUCKET_MS.items()},
        "history_ms": HISTORY_MS,
        "label_bucket_ms": LABEL_BUCKET_MS,
        "no_previous": NO_PREVIOUS,
        "eur_rates": dict(EUR_RATES),
        "rates_version": RATES_VERSION,
    }


def write_feature_spec(path: Path, features: tuple[Feature, ...] = FEATURES) -> Path:
    path.write_text(json.dumps(feature_spec(features), indent=1) + "\n")
    return path


if __name__ == "__main__":
    # After a change to the registry: the golden spec the contract tests of both languages read
    # (`python -m fraudguard.features.spec contracts/feature-spec.json`).
    import sys

    write_feature_spec(Path(sys.argv[1]))
