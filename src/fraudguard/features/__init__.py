"""Declared features, evaluated by one kernel for the streaming job and the offline path."""

from fraudguard.features.offline import Features, build_features, processing_order
from fraudguard.features.registry import (
    FEATURE_NAMES,
    FEATURE_SET_VERSION,
    FEATURES,
    HistoryFeature,
    LabelFeature,
    TxnFeature,
    WindowFeature,
    feature_name,
)

__all__ = [
    "FEATURES",
    "FEATURE_NAMES",
    "FEATURE_SET_VERSION",
    "Features",
    "HistoryFeature",
    "LabelFeature",
    "TxnFeature",
    "WindowFeature",
    "build_features",
    "feature_name",
    "processing_order",
]
