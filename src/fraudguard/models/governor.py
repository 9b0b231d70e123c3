"""The automatic model lifecycle: the gates of :mod:`fraudguard.models.gates` applied to a
decision log, acting on the registry unless it is frozen, every action with its reason.

A decision log here is a decision file with the challenger's scores beside the champion's
(``fraudguard log export``'s or a backtest's ``decisions.parquet``) and the labels known at a
cut-off. The governor:

1. **rolls back** a champion promoted less than ``watch_hours`` ago whose decisions since its
   promotion left the band of rates expected of it (its shadow period's scores under the tiers
   in force, before it was promoted), or were too often degraded;
2. otherwise **promotes** the challenger when :func:`~fraudguard.models.gates.promotion_verdict`
   allows it.

Nothing happens while the registry is frozen. Each action (or refusal) is returned as a
:class:`ModelAction`; the caller publishes it on the ``control`` topic, where every change is
logged.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from fraudguard.config import GateSettings
from fraudguard.decision.tiers import AMOUNT_FEATURE, ThresholdTiers
from fraudguard.errors import ModelError
from fraudguard.models.gates import (
    ModelComparison,
    RateWindow,
    compare_scores,
    promotion_verdict,
    rollback_verdict,
    tree_nodes,
)
from fraudguard.models.registry import TREES_FILE, ModelRegistry

COLUMNS = ("decision", "base_score", "challenger_score", "challenger_version", "model_version",
           "explored", "propensity", "degraded", "ts_ms", "mcc", "channel")  # fmt: skip


@dataclass(frozen=True)
class ModelAction:
    """What the governor did, or why it did nothing."""

    action: str
    """``promote``, ``rollback`` or ``none``."""
    version: str | None
    reasons: list[str]
    at_ms: int = field(default_factory=lambda: int(time.time() * 1000))
    comparison: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class DecisionLog:
    """The columns the gates read, with label codes (1 fraud, 0 legitimate, -1 unknown)."""

    columns: dict[str, np.ndarray]
    label: np.ndarray

    @classmethod
    def read(
        cls, path: Path, labels: dict[str, tuple[str, int]] | None, cutoff_ms: int
    ) -> DecisionLog:
        return cls.from_table(pq.read_table(path), labels, cutoff_ms, str(path))

    @classmethod
    def from_table(
        cls, table: pa.Table, labels: dict[str, tuple[str, int]] | None, cutoff_ms: int,
        source: str = "the decision log",
    ) -> DecisionLog:  # fmt: skip
        """The gates' columns of a decision table (a file's, or the governor service's window
        of the ``decisions`` topic), with the labels reported by ``cutoff_ms``: fraud 1, no
        label by then 0 (as training counts it); without ``labels`` every label is unknown."""
        missing = [c for c in COLUMNS if c not in table.column_names]
        if missing:
            raise ModelError(f"{source}: no {', '.join(missing)}: not a decision log of this "
                             "version (export it again with `fraudguard log export`)")  # fmt: skip
        cols = {c: table[c].to_numpy(zero_copy_only=False) for c in COLUMNS}
        if "features" in table.column_names:
            cols["amount_eur"] = table["features"].combine_chunks().field(AMOUNT_FEATURE).to_numpy()
        else:
            cols["amount_eur"] = table[AMOUNT_FEATURE].to_numpy()
        ids = table["txn_id"].to_pylist()
        label = np.full(len(ids), -1, np.int8)
        if labels is not None:
            label[:] = 0  # no label by the cut-off: legitimate, as training counts it
            for i, txn in enumerate(ids):
                found = labels.get(txn)
                if found is not None and found[1] <= cutoff_ms and found[0] == "fraud":
                    label[i] = 1
        for name in ("base_score", "challenger_score", "propensity"):
            cols[name] = np.array([np.nan if v is None else v for v in cols[name]], np.float64)
        return cls(cols, label)

    @classmethod
    def from_files(cls, decisions: Path, labels: Path | None, cutoff_ms: int | None) -> DecisionLog:
        """A decision file with the labels of a labels file known by ``cutoff_ms`` (None:
        every label); without a labels file every label is unknown."""
        from fraudguard.backtest.labels import KnownLabels

        cutoff = cutoff_ms if cutoff_ms is not None else 2**63 - 1
        known = KnownLabels.from_file(labels, cutoff).reported if labels is not None else None
        return cls.read(decisions, known, cutoff)


def _costs(registry: ModelRegistry, champion: str, challenger: str) -> tuple[int, int]:
    return tuple(  # type: ignore[return-value]
        tree_nodes((registry.get(v).path / TREES_FILE).read_bytes()) for v in (champion, challenger)
    )


def comparison(log: DecisionLog, registry: ModelRegistry) -> ModelComparison:
    """The champion and the challenger the registry names, on the decisions both scored."""
    pointer = registry.pointer()
    if pointer.champion is None or pointer.challenger is None:
        raise ModelError("comparing needs a champion and a challenger (`fraudguard model "
                         "challenger VERSION`)")  # fmt: skip
    c = log.columns
    mine = c["model_version"] == pointer.champion
    mine &= c["challenger_version"] == pointer.challenger
    if not mine.any():
        raise ModelError(f"no decision of champion {pointer.champion} with challenger "
                         f"{pointer.challenger} in the log")  # fmt: skip
    return compare_scores(
        pointer.champion, pointer.challenger, c["base_score"][mine], c["challenger_score"][mine],
        log.label[mine], c["explored"][mine].astype(bool), c["propensity"][mine],
        _costs(registry, pointer.champion, pointer.challenger),
    )  # fmt: skip


def _window(decisions: np.ndarray, degraded: np.ndarray) -> RateWindow:
    return RateWindow(len(decisions), int((decisions == "review").sum()),
                      int((decisions == "block").sum()), int(degraded.sum()))  # fmt: skip


def rates_since_promotion(
    log: DecisionLog, version: str, promoted_ms: int, tiers: ThresholdTiers
) -> tuple[RateWindow, RateWindow]:
    """What ``version`` decided since it was promoted, and what its shadow scores before then
    would have decided under ``tiers`` (the band it is expected to stay in)."""
    c = log.columns
    after = (c["ts_ms"] >= promoted_ms) & (c["model_version"] == version)
    before = (c["ts_ms"] < promoted_ms) & (c["challenger_version"] == version)
    before &= np.isfinite(c["challenger_score"])
    codes, _ = tiers.decide_columns(c["challenger_score"][before], c["mcc"][before],
                                    c["channel"][before], c["amount_eur"][before])  # fmt: skip
    expected = RateWindow(int(before.sum()), int((codes == 1).sum()), int((codes == 2).sum()), 0)
    observed = _window(c["decision"][after], c["degraded"][after].astype(bool))
    return observed, expected


def govern(
    log: DecisionLog, registry: ModelRegistry, tiers: ThresholdTiers, gates: GateSettings,
    now_ms: int | None = None, apply: bool = True,
) -> ModelAction:  # fmt: skip
    """One round of the automatic lifecycle over ``log``; with ``apply`` the registry changes."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    pointer = registry.pointer()
    if pointer.frozen is not None:
        return ModelAction("none", None, [f"frozen: {pointer.frozen}"], now_ms)
    if pointer.champion is not None and pointer.promoted_at is not None:
        promoted_ms = int(datetime.fromisoformat(pointer.promoted_at).timestamp() * 1000)
        if now_ms - promoted_ms < gates.watch_hours * 3_600_000 and pointer.history:
            observed, expected = rates_since_promotion(log, pointer.champion, promoted_ms, tiers)
            verdict = rollback_verdict(observed, expected, gates)
            if verdict.allowed and expected.decisions:
                if apply:
                    registry.rollback()
                return ModelAction("rollback", pointer.champion, verdict.reasons, now_ms)
    if pointer.challenger is None:
        return ModelAction("none", None, ["no challenger"], now_ms)
    measured = comparison(log, registry)
    verdict = promotion_verdict(measured, gates)
    if not verdict.allowed:
        return ModelAction("none", pointer.challenger, verdict.reasons, now_ms, measured.to_dict())
    if apply:
        registry.promote(pointer.challenger)
    reason = (f"AP on the unbiased sample {measured.ap_challenger_unbiased:.3f} vs "
              f"{measured.ap_champion_unbiased:.3f}, PSI {measured.score_psi:.3f}")  # fmt: skip
    return ModelAction("promote", pointer.challenger, [reason], now_ms, measured.to_dict())
