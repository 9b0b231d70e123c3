"""What the registry records about each model (``metadata.json``) and about the champion
(``champion.json``).

>>> pointer = ChampionPointer().promoted("m1", "2026-11-25T16:00:00Z")
>>> pointer = pointer.promoted("m2", "2026-11-25T17:00:00Z")
>>> pointer.champion, [e.version for e in pointer.history], pointer.sequence
('m2', ['m1'], 2)
>>> pointer.rolled_back("2026-11-25T18:00:00Z").champion
'm1'
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ModelMetadata(BaseModel):
    """Everything needed to trust, reproduce and serve one trained model."""

    # Unknown fields are kept, so an older FraudGuard can list a newer model's metadata.
    model_config = ConfigDict(frozen=True, extra="allow")

    version: str
    created_at: str
    """UTC, ISO-8601."""
    kind: str = "xgboost"
    framework: str
    """Library and version that trained the model, e.g. ``xgboost 3.2.0``."""
    model_file: str = "model.ubj"
    model_sha256: str = ""
    """Filled in by the registry from the bytes it writes."""
    feature_set_version: str
    feature_names: list[str]
    scale_pos_weight: float
    params: dict[str, Any] = {}
    metrics: dict[str, Any] = {}
    """``validation`` and ``test`` measures (without reliability bins; the report has those)."""
    weights_tried: list[dict[str, Any]] = []
    training_data: dict[str, Any] = {}
    """Fingerprint (SHA-256 of the labelled rows), size, fraud rate, split and sources."""
    code_version: str


class ChampionEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str
    promoted_at: str


class ChampionPointer(BaseModel):
    """The model the job serves, and the earlier champions a rollback returns to."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    champion: str | None = None
    promoted_at: str | None = None
    history: list[ChampionEntry] = Field(default_factory=list)
    """Earlier champions, oldest first; ``rollback`` returns to the last one."""
    sequence: int = 0
    """Increases with every change, so a reader notices one without comparing contents."""
    challenger: str | None = None
    """The shadow challenger the job scores beside the champion, deciding nothing."""
    challenger_since: str | None = None
    frozen: str | None = None
    """Why automatic promotions and rollbacks are stopped (``fraudguard model freeze``);
    None: they may act. People can still promote and roll back by hand."""

    def promoted(self, version: str, at: str) -> ChampionPointer:
        """``version`` in place; a challenger promoted stops being the challenger."""
        history = list(self.history)
        if self.champion is not None:
            history.append(ChampionEntry(version=self.champion, promoted_at=self.promoted_at or at))
        kept = self.challenger if self.challenger != version else None
        return self.model_copy(update={
            "champion": version, "promoted_at": at, "history": history,
            "sequence": self.sequence + 1, "challenger": kept,
            "challenger_since": self.challenger_since if kept else None,
        })  # fmt: skip

    def rolled_back(self, at: str) -> ChampionPointer:
        """The previous champion back in place (the caller checks there is one)."""
        *history, previous = self.history
        return self.model_copy(update={
            "champion": previous.version, "promoted_at": at, "history": history,
            "sequence": self.sequence + 1,
        })  # fmt: skip

    def with_freeze(self, reason: str | None) -> ChampionPointer:
        return self.model_copy(update={"frozen": reason, "sequence": self.sequence + 1})

    def with_challenger(self, version: str | None, at: str) -> ChampionPointer:
        """``version`` as the shadow challenger (None: no challenger)."""
        return self.model_copy(update={
            "challenger": version, "challenger_since": at if version else None,
            "sequence": self.sequence + 1,
        })  # fmt: skip
