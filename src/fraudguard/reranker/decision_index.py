"""What the re-ranker learner keeps of each decision, to join the labels that come days later.

Each decision is kept by transaction id with the model that scored it, its base score and the
re-ranker's few features; the newest also keep every logged feature so that a new champion can
re-score them (see :class:`DecisionIndex`).
"""

from __future__ import annotations

import logging
import sys
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

import numpy as np

from fraudguard.features import FEATURE_NAMES
from fraudguard.reranker.model import Row

log = logging.getLogger(__name__)

RULES = "rules"
"""What :class:`DecisionIndex` calls the scorer of a degraded (rules-scored) decision."""


class ScoringModel(Protocol):
    """What :meth:`DecisionIndex.rescore` needs of a model
    (:class:`~fraudguard.models.booster.XGBoostScorer`)."""

    version: str
    feature_names: tuple[str, ...]

    def predict_batch(self, rows: Any) -> list[float]: ...


class DecisionIndex:
    """What the re-ranker needs of each decision, by transaction id, bounded.

    A decision the rules scored is kept as scored by ``RULES`` and never counts as the newest
    model's. With ``rescore_capacity``, the newest decisions also keep every logged feature,
    so :meth:`rescore` can give them the score another model gives those features.

    >>> index = DecisionIndex(("card_count_1h",), capacity=3)
    >>> for i, degraded in ((1, False), (2, False), (3, False), (4, True)):
    ...     index.add({"txn_id": f"t{i}", "base_score": 0.1 * i, "degraded": degraded,
    ...                "model_version": "m1", "features": {"card_count_1h": float(i)}})
    True
    True
    True
    False
    >>> "t1" in index, index.row("t3", True), index.row("t4", True)[0], index.latest_model
    (False, ('m1', (0.30000000000000004, {'card_count_1h': 3.0}, True)), 'rules', 'm1')

    The champion is the model of the newest decision, whatever order they are read in:

    >>> for txn_id, model, at in (("a", "m2", 20), ("b", "m1", 10)):
    ...     _ = index.add({"txn_id": txn_id, "base_score": 0.5, "model_version": model,
    ...                    "decided_at_ms": at, "features": {}})
    >>> index.latest_model
    'm2'
    """

    def __init__(self, features: tuple[str, ...], capacity: int, rescore_capacity: int = 0) -> None:
        self.features = features
        self.capacity = capacity
        self._rows: OrderedDict[str, tuple[str, float, tuple[float, ...], int]] = OrderedDict()
        self.latest_model: str | None = None
        """The model that scored the newest decision (by ``decided_at_ms``; the decisions
        topic has several partitions, so arrival order is not decision order): the champion
        in force."""
        self._latest_at = -1
        # Every logged feature of the newest decisions, in a ring: slot -> txn_id says whose
        # features a slot still holds (an older decision's slot may have been reused).
        self._logged = np.zeros((rescore_capacity, len(FEATURE_NAMES)), dtype=np.float32)
        self._owner: list[str | None] = [None] * rescore_capacity
        self._next_slot = 0

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, txn_id: str) -> bool:
        return txn_id in self._rows

    def add(self, record: Mapping[str, Any]) -> bool:
        """Index one decision record; False when the rules scored it."""
        txn_id = record["txn_id"]
        logged = record["features"]
        nan = float("nan")
        slot = self._keep_logged(txn_id, logged)
        if record.get("degraded"):
            self._keep(txn_id, (RULES, nan, (), slot))
            return False
        base = record.get("base_score")
        if base is None:  # a decision logged before base scores were: no re-ranker applied
            base = record["score"]
        model = sys.intern(str(record["model_version"]))
        decided_at = record.get("decided_at_ms")
        if decided_at is None or decided_at >= self._latest_at:
            self.latest_model = model
            self._latest_at = self._latest_at if decided_at is None else int(decided_at)
        values = tuple(float(logged.get(name, nan)) for name in self.features)
        self._keep(txn_id, (model, float(base), values, slot))
        return True

    def _keep_logged(self, txn_id: str, logged: Mapping[str, Any]) -> int:
        if not self._owner:
            return -1
        slot = self._next_slot
        try:
            self._logged[slot] = [logged.get(name) for name in FEATURE_NAMES]  # None: NaN
        except (TypeError, ValueError):  # not numbers: this decision cannot be re-scored
            self._owner[slot] = None
            return -1
        self._next_slot = (slot + 1) % len(self._owner)
        self._owner[slot] = txn_id
        return slot

    def _keep(self, txn_id: str, entry: tuple[str, float, tuple[float, ...], int]) -> None:
        self._rows[txn_id] = entry
        self._rows.move_to_end(txn_id)
        while len(self._rows) > self.capacity:
            self._rows.popitem(last=False)

    def row(self, txn_id: str, label: bool) -> tuple[str, Row] | None:
        """The model that scored ``txn_id`` and the labelled example, or None when unknown."""
        found = self._rows.get(txn_id)
        if found is None:
            return None
        model, base, values, _ = found
        if model == RULES:
            return model, (base, {}, label)
        return model, (base, dict(zip(self.features, values, strict=True)), label)

    def rescore(self, model: ScoringModel, txn_ids: Iterable[str] | None = None) -> int:
        """Score with ``model`` the decisions (``txn_ids``, or all) that another model or the
        rules scored and whose logged features are still held, as if ``model`` had made them;
        returns how many. The features are the ones the job logged, so the score is the one
        the job would have logged with ``model`` in force.
        """
        try:
            columns = [FEATURE_NAMES.index(name) for name in model.feature_names]
        except ValueError:
            log.warning("model %s uses features the decisions do not log: not re-scored",
                        model.version)  # fmt: skip
            return 0
        mine = [FEATURE_NAMES.index(name) for name in self.features]
        ids = list(self._rows) if txn_ids is None else txn_ids
        todo: list[tuple[str, tuple[float, ...], int]] = []
        for txn_id in ids:
            entry = self._rows.get(txn_id)
            if entry is None or entry[0] == model.version:
                continue
            _, _, values, slot = entry
            if slot >= 0 and self._owner[slot] == txn_id:
                if not values:  # scored by the rules: the index kept no feature of its own
                    values = tuple(float(v) for v in self._logged[slot, mine])
                todo.append((txn_id, values, slot))
        for start in range(0, len(todo), 100_000):
            chunk = todo[start : start + 100_000]
            logged = self._logged[[slot for _, _, slot in chunk]][:, columns]
            for (txn_id, values, slot), score in zip(
                chunk, model.predict_batch(logged), strict=True
            ):
                self._rows[txn_id] = (model.version, float(score), values, slot)
        return len(todo)

    def feature_sample(self, n: int, model: str) -> Iterable[dict[str, float]]:
        """The features of up to ``n`` of the newest decisions ``model`` scored."""
        taken = 0
        for scored_by, _, values, _ in reversed(self._rows.values()):
            if taken >= n:
                return
            if scored_by == model:
                taken += 1
                yield dict(zip(self.features, values, strict=True))
