"""Declared features, evaluated identically by the streaming job and the offline path."""

from fraudguard.features.engine import FeatureEngine, Features
from fraudguard.features.offline import build_features, processing_order
from fraudguard.features.registry import (
    FEATURE_NAMES,
    FEATURE_SET_VERSION,
    FEATURES,
    HistoryFeature,
    TxnFeature,
    WindowFeature,
    feature_name,
)
from fraudguard.features.steps import CardState, CardStep, DeviceStep, MerchantStep

__all__ = [
    "FEATURES",
    "FEATURE_NAMES",
    "FEATURE_SET_VERSION",
    "CardState",
    "CardStep",
    "DeviceStep",
    "FeatureEngine",
    "Features",
    "HistoryFeature",
    "MerchantStep",
    "TxnFeature",
    "WindowFeature",
    "build_features",
    "feature_name",
    "processing_order",
]
