"""The Models page: the registry, the champion and its history, the shadow challenger measured
against it, the automatic lifecycle's actions and its freeze, the re-ranker snapshots with
their guard figures; promotion, rollback and the freeze by leads with a reason, through the
CLI's own code paths (:mod:`fraudguard.control.changes`, the registry), audited."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine, func, select

from fraudguard.config import Settings
from fraudguard.control import changes
from fraudguard.errors import FraudGuardError, ModelError, ModelNotFound
from fraudguard.features import FEATURE_SET_VERSION
from fraudguard.models.gates import promotion_verdict
from fraudguard.models.governor import DecisionLog, comparison
from fraudguard.models.registry import TREES_FILE, ModelRegistry
from fraudguard.panel import audit
from fraudguard.panel import tables as t
from fraudguard.panel.audit import Actor, record

PR_CURVE = "pr_curve.png"
MAX_COMPARED = 200_000
"""The newest decisions of the champion and challenger compared: enough for steady figures,
few enough to read in one request."""
MODEL_ACTIONS = ("model.promote", "model.rollback", "model.freeze", "model.unfreeze")
DAY_MS = 86_400_000


def registry_view(settings: Settings) -> dict[str, Any]:
    """Every model with what a fraud team compares them by, newest first, and the champion."""
    registry = ModelRegistry.from_settings(settings)
    pointer = registry.pointer()
    models = []
    for entry in sorted(registry.entries(), key=lambda e: e.metadata.created_at, reverse=True):
        meta = entry.metadata
        test = meta.metrics.get("test", {})
        models.append(
            {
                "version": meta.version,
                "created_at": meta.created_at,
                "feature_set_version": meta.feature_set_version,
                "servable": meta.feature_set_version == FEATURE_SET_VERSION,
                "scale_pos_weight": meta.scale_pos_weight,
                "training_data_hash": meta.training_data.get("fingerprint"),
                "rows": meta.training_data.get("rows"),
                "average_precision": test.get("average_precision"),
                "fraud_rate": test.get("fraud_rate"),
                "metrics": meta.metrics,
                "has_pr_curve": (entry.path / PR_CURVE).exists(),
                "champion": meta.version == pointer.champion,
                "challenger": meta.version == pointer.challenger,
            }
        )
    return {
        "champion": pointer.champion,
        "promoted_at": pointer.promoted_at,
        "history": [h.model_dump() for h in pointer.history],
        "challenger": pointer.challenger,
        "challenger_since": pointer.challenger_since,
        "frozen": pointer.frozen is not None,
        "frozen_reason": pointer.frozen,
        "models": models,
    }


def stored_log(
    engine: Engine, champion: str, challenger: str, now_ms: int, label_window_ms: int,
    limit: int = MAX_COMPARED,
) -> DecisionLog:  # fmt: skip
    """The newest stored decisions ``champion`` made while ``challenger`` scored beside it, as
    the governor reads a decision log: label 1 fraud, 0 legitimate, -1 unknown by ``now_ms``.

    A decision's label is the newest one stored for it (a correction supersedes). Without one,
    an approval (an explored release included) counts as legitimate once the label window has
    passed, as retraining counts it (its chargeback would have come); anything else is unknown.
    """
    d, lab = t.decisions.c, t.labels.c
    newest = (
        select(lab.txn_id, func.max(lab.seq).label("seq"))
        .where(lab.reported_at_ms <= now_ms).group_by(lab.txn_id).subquery()
    )  # fmt: skip
    query = (
        select(d.event_ms, d.decision, d.base_score, d.challenger_score, d.explored,
               d.propensity, lab.label)
        .outerjoin(newest, newest.c.txn_id == d.txn_id)
        .outerjoin(t.labels, lab.seq == newest.c.seq)
        .where(d.model_version == champion, d.challenger_version == challenger)
        .order_by(d.seq.desc()).limit(limit)
    )  # fmt: skip
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    n = len(rows)
    event_ms = np.array([r[0] for r in rows], np.int64)
    approved = np.array([r[1] == "approve" for r in rows], bool)
    stored = np.array([r[6] or "" for r in rows], object)
    label = np.full(n, -1, np.int8)
    label[approved & (stored == "") & (event_ms <= now_ms - label_window_ms)] = 0
    label[stored == "legit"] = 0
    label[stored == "fraud"] = 1
    columns = {
        "model_version": np.full(n, champion, object),
        "challenger_version": np.full(n, challenger, object),
        "base_score": np.array([r[2] for r in rows], np.float64),
        "challenger_score": np.array([np.nan if r[3] is None else r[3] for r in rows], np.float64),
        "explored": np.array([bool(r[4]) for r in rows], bool),
        "propensity": np.array([r[5] for r in rows], np.float64),
        "event_ms": event_ms,
    }
    return DecisionLog(columns, label)


def comparison_view(
    engine: Engine, settings: Settings, now_ms: int | None = None
) -> dict[str, Any]:
    """The champion against the shadow challenger on the stored decisions both scored, measured
    by the governor's own :func:`~fraudguard.models.governor.comparison`, with the promotion
    gate's verdict; or, in plain words, why there is not enough to compare."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    registry = ModelRegistry.from_settings(settings)
    pointer = registry.pointer()
    window_days = settings.outcomes.label_window_days
    view: dict[str, Any] = {
        "champion": pointer.champion, "challenger": pointer.challenger,
        "challenger_since": pointer.challenger_since, "label_window_days": window_days,
        "max_compared": MAX_COMPARED, "comparable": False, "not_enough": [],
        "figures": None, "gate": None,
    }  # fmt: skip
    if pointer.champion is None:
        view["not_enough"].append("No champion: the rules decide, so there is nothing to compare.")
        return view
    if pointer.challenger is None:
        view["not_enough"].append(
            "No shadow challenger is set (`fraudguard model challenger VERSION`), so there is "
            "nothing to compare."
        )
        return view
    log = stored_log(engine, pointer.champion, pointer.challenger, now_ms,
                     int(window_days * DAY_MS))  # fmt: skip
    scored = np.isfinite(log.columns["challenger_score"])
    if not scored.any():
        view["not_enough"].append(
            f"No stored decision of champion {pointer.champion} carries a score of challenger "
            f"{pointer.challenger} yet: the job scores it from the moment the registry names "
            "it, and the panel stores what the job decided."
        )
        return view
    unscorable = [v for v in (pointer.champion, pointer.challenger)
                  if not (registry.get(v).path / TREES_FILE).exists()]  # fmt: skip
    if unscorable:
        view["not_enough"].append(
            f"Model {', '.join(unscorable)} has no compiled trees ({TREES_FILE}): its scoring "
            "cost cannot be measured, and the job cannot serve it."
        )
        return view
    measured = comparison(log, registry)
    verdict = promotion_verdict(measured, settings.gates)
    label, explored = log.label[scored], log.columns["explored"][scored]
    counts = {
        "fraud_labelled": int((label == 1).sum()),
        "explored_fraud": int(((label == 1) & explored).sum()),
    }
    if math.isnan(measured.ap_champion_matured):  # one class only, or none
        view["not_enough"].append(
            f"Average precision on matured labels needs fraud and legitimate decisions: of the "
            f"{measured.decisions:,} both scored, {measured.labelled:,} have a known label "
            f"({counts['fraud_labelled']:,} fraud)."
        )
    need = settings.gates.min_explored_labelled
    if measured.explored_labelled < need or math.isnan(measured.ap_champion_unbiased):
        view["not_enough"].append(
            f"The explored sample is too small to judge: {measured.explored_labelled:,} "
            f"labelled explored decisions ({counts['explored_fraud']:,} fraud); the gate needs "
            f"{need:,}, with fraud and legitimate among them."
        )
    view.update(comparable=True, figures=measured.to_dict() | counts,
                gate={"allowed": verdict.allowed, "reasons": verdict.reasons})  # fmt: skip
    return view


def lifecycle_view(engine: Engine, settings: Settings, with_audit: bool) -> dict[str, Any]:
    """The model lifecycle's log, newest first: the governor's promotions and rollbacks from the
    control topic with their reasons, and (``with_audit``: for the roles that read the audit
    log) the promotions, rollbacks and freezes people made in the panel, with theirs; the
    governor's newest round whatever it did, and the freeze."""
    pointer = ModelRegistry.from_settings(settings).pointer()
    events: list[dict[str, Any]] = []
    view: dict[str, Any] = {
        "frozen": pointer.frozen is not None, "frozen_reason": pointer.frozen,
        "last_round": None, "automatic_unavailable": None, "events": events,
        "people_shown": with_audit,
    }  # fmt: skip
    try:
        notices = changes.published_model_notices(settings)
    except FraudGuardError as exc:  # Kafka down: the rest of the log still stands
        view["automatic_unavailable"] = str(exc)
        notices = []
    for notice in notices:
        entry = {"at_ms": notice.at_ms, "by": "governor", "action": notice.action,
                 "version": notice.version, "reasons": list(notice.reasons)}  # fmt: skip
        if notice.action != "none":
            events.append(entry)
    if notices:
        last = notices[-1]
        view["last_round"] = {"at_ms": last.at_ms, "action": last.action,
                              "version": last.version, "reasons": list(last.reasons)}  # fmt: skip
    if with_audit:
        for row in audit.entries(engine, action="model."):
            if row["action"] not in MODEL_ACTIONS:
                continue
            after = row["after"] or {}
            reason = after.get("reason")
            events.append({
                "at_ms": row["at_ms"], "by": row["actor"],
                "action": row["action"].removeprefix("model."),
                "version": after.get("champion"), "reasons": [reason] if reason else [],
            })  # fmt: skip
    events.sort(key=lambda e: e["at_ms"], reverse=True)
    return view


def pr_curve(settings: Settings, version: str) -> Path:
    """The PR-curve image of a registered model."""
    entry = ModelRegistry.from_settings(settings).get(version)
    path = entry.path / PR_CURVE
    if not path.exists():
        raise ModelNotFound(f"model {version} has no PR curve")
    return path


def rerankers_view(settings: Settings) -> list[dict[str, Any]]:
    """Every published re-ranker snapshot, newest first, with its guard figures."""
    published = changes.published_rerankers(settings)
    return [
        {
            "version": c.snapshot.version,
            "created_at_ms": c.snapshot.created_at_ms,
            "labels_learnt": c.snapshot.n_updates,
            "base_model_version": c.base_model_version,
            "metrics": dict(c.snapshot.metrics),
            "in_force": i == len(published) - 1,
        }
        for i, c in reversed(list(enumerate(published)))
    ]


def promote(
    engine: Engine, settings: Settings, actor: Actor, version: str, reason: str
) -> dict[str, Any]:
    done = changes.promote_model(settings, version)
    with engine.begin() as conn:
        record(
            conn,
            actor,
            "model.promote",
            f"model {version}",
            before={"champion": done.before},
            after={"champion": done.after, "reason": reason},
        )
    return {"champion": done.after, "was": done.before}


def roll_back(engine: Engine, settings: Settings, actor: Actor, reason: str) -> dict[str, Any]:
    done = changes.roll_back_model(settings)
    with engine.begin() as conn:
        record(
            conn,
            actor,
            "model.rollback",
            f"model {done.after}",
            before={"champion": done.before},
            after={"champion": done.after, "reason": reason},
        )
    return {"champion": done.after, "was": done.before}


def roll_back_reranker(
    engine: Engine, settings: Settings, actor: Actor, to: str | None, reason: str
) -> dict[str, Any]:
    before = changes.published_rerankers(settings)
    snapshot = changes.roll_back_reranker(settings, to)
    with engine.begin() as conn:
        record(
            conn,
            actor,
            "reranker.rollback",
            f"re-ranker {snapshot.version}",
            before={"version": before[-1].snapshot.version if before else None},
            after={"version": snapshot.version, "reason": reason},
        )
    return {"version": snapshot.version}


def freeze(engine: Engine, settings: Settings, actor: Actor, reason: str) -> dict[str, Any]:
    """Stop every automatic model change (people can still promote and roll back), as
    ``fraudguard model freeze`` does; freezing again replaces the reason."""
    registry = ModelRegistry.from_settings(settings)
    before = registry.pointer().frozen
    registry.freeze(reason)
    with engine.begin() as conn:
        record(
            conn,
            actor,
            "model.freeze",
            "model lifecycle",
            before={"frozen": before},
            after={"frozen": reason, "reason": reason},
        )
    return {"frozen": True, "frozen_reason": reason, "was": before}


def unfreeze(engine: Engine, settings: Settings, actor: Actor, reason: str) -> dict[str, Any]:
    """Let the automatic lifecycle act again (refused when it is not frozen)."""
    registry = ModelRegistry.from_settings(settings)
    before = registry.pointer().frozen
    if before is None:
        raise ModelError("automatic model changes are not frozen")
    registry.freeze(None)
    with engine.begin() as conn:
        record(
            conn,
            actor,
            "model.unfreeze",
            "model lifecycle",
            before={"frozen": before},
            after={"frozen": None, "reason": reason or None},
        )
    return {"frozen": False, "frozen_reason": None, "was": before}
