"""Trained models: the registry, their metadata and the champion pointer."""

from fraudguard.models.metadata import ChampionEntry, ChampionPointer, ModelMetadata
from fraudguard.models.provenance import code_version, model_version
from fraudguard.models.registry import ModelEntry, ModelRegistry

__all__ = [
    "ChampionEntry",
    "ChampionPointer",
    "ModelEntry",
    "ModelMetadata",
    "ModelRegistry",
    "code_version",
    "model_version",
]
