"""The scorer the job uses: the registry's champion model, followed while the job runs, with the
rule-based score as the documented fallback.

Every second (on the next transaction) the scorer looks at the champion pointer; when it names
another model, the scorer loads it and scores with it from then on, so ``fraudguard model
promote`` and ``rollback`` take effect in the running job within about a second. If no model is
promoted, or the champion cannot be loaded, or scoring raises, the transaction is scored by
:class:`~fraudguard.scoring.rules.RuleBasedScorer` and the decision is marked degraded: a
transaction is never dropped for want of a model.

>>> import tempfile
>>> scorer = ChampionScorer(Path(tempfile.mkdtemp()))
>>> scored = scorer.score(4000.0, "online", {})
>>> scored.model_version, scored.degraded, scored.score
('rules-v1', True, 0.65)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from fraudguard.errors import FraudGuardError, ModelError
from fraudguard.scoring.rules import RuleBasedScorer

log = logging.getLogger(__name__)


class Scored(NamedTuple):
    score: float
    model_version: str
    degraded: bool


class ServedModel:
    """A registered model as the job scores it: its compiled trees (``trees.json``, written at
    registration) and its feature order. No libxgboost: see :mod:`fraudguard.scoring.compiled`."""

    def __init__(self, version: str, feature_names: list[str], trees: Any) -> None:
        self.version, self.feature_names, self.trees = version, tuple(feature_names), trees

    @classmethod
    def load(cls, folder: Path, version: str, feature_names: list[str]) -> ServedModel:
        from fraudguard.models.registry import TREES_FILE
        from fraudguard.scoring.compiled import CompiledTrees

        try:
            trees = CompiledTrees.from_json((folder / TREES_FILE).read_bytes())
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(f"model {version}: cannot load {folder / TREES_FILE}: {exc}") from exc
        if trees.num_feature != len(feature_names):
            raise ModelError(f"model {version}: {trees.num_feature} features in its trees, "
                             f"{len(feature_names)} names")  # fmt: skip
        return cls(version, feature_names, trees)

    def score(self, features: Mapping[str, float]) -> float:
        row = [features[name] for name in self.feature_names]
        return self.trees.predict_one(row)


class ChampionScorer:
    """Scores with the champion of the registry under ``models_dir`` (None: the rules only),
    else with the rules."""

    def __init__(
        self,
        models_dir: Path | None,
        check_every_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.models_dir = models_dir
        self.check_every_s = check_every_s
        self.clock = clock
        self.rules = RuleBasedScorer()
        self.model: ServedModel | None = None
        self.failed_version: str | None = None
        self._next_check = 0.0
        self._pointer_mtime: float | None = None

    @property
    def version(self) -> str:
        return self.model.version if self.model is not None else self.rules.version

    def refresh(self) -> None:
        """Follow the champion pointer (cheap when it has not changed)."""
        now = self.clock()
        if self.models_dir is None or now < self._next_check:
            return
        self._next_check = now + self.check_every_s
        from fraudguard.models.registry import ModelRegistry

        pointer = ModelRegistry(self.models_dir).pointer_path
        try:
            mtime = pointer.stat().st_mtime
        except FileNotFoundError:
            mtime = None
        if mtime == self._pointer_mtime:
            return
        self._pointer_mtime = mtime
        self._load_champion()

    def _load_champion(self) -> None:
        from fraudguard.models.registry import ModelRegistry

        assert self.models_dir is not None
        try:
            entry = ModelRegistry(self.models_dir).champion()
            if entry is None:
                if self.model is not None:
                    log.warning("no champion any more: scoring with %s", self.rules.version)
                self.model = None
                return
            if self.model is not None and entry.version == self.model.version:
                return
            self.model = ServedModel.load(entry.path, entry.version, entry.metadata.feature_names)
            self.failed_version = None
            log.info("champion model %s loaded", entry.version)
        except (FraudGuardError, OSError, ValueError) as exc:
            # Keep what scores now (a model or the rules); say once per version why.
            version = str(exc)
            if version != self.failed_version:
                log.error("cannot load the champion model: %s", exc)
                self.failed_version = version

    def score(self, amount: float, channel: str, features: Mapping[str, float]) -> Scored:
        self.refresh()
        if self.model is not None:
            try:
                return Scored(self.model.score(features), self.model.version, False)
            except Exception as exc:  # noqa: BLE001 - a scoring failure must not drop a payment
                log.error("model %s failed to score: %s; using the rules", self.model.version, exc)
        return Scored(self.rules.score_one(amount, channel, features), self.rules.version, True)
