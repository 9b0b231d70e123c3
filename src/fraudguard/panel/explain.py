"""A case as an analyst reads it: the payment, the decision and its versions, why the model
scored it (each feature's contribution to the score's logit, named by the registry), the card's
recent payments and decisions, and the newest online features of the card and the merchant."""

from __future__ import annotations

import functools
import math
from typing import Any

import orjson
from sqlalchemy import Engine, select

from fraudguard.config import Settings
from fraudguard.errors import FraudGuardError, ModelError
from fraudguard.features.online_store import OnlineFeatureReader
from fraudguard.models.booster import XGBoostScorer
from fraudguard.models.registry import ModelRegistry
from fraudguard.panel import charts
from fraudguard.panel import tables as t
from fraudguard.panel.cases import get_case
from fraudguard.panel.store import unpack_features

TOP_CONTRIBUTIONS = 15
RECENT = 20


def case_view(engine: Engine, settings: Settings, case_id: int) -> dict[str, Any]:
    d = t.decisions.c
    with engine.connect() as conn:
        case = get_case(conn, case_id)
        decision = (
            conn.execute(select(t.decisions).where(d.txn_id == case["txn_id"])).mappings().one()
        )
        recent = (
            conn.execute(
                select(
                    d.txn_id,
                    d.event_ms,
                    d.amount,
                    d.currency,
                    d.amount_eur,
                    d.merchant_id,
                    d.mcc,
                    d.channel,
                    d.country,
                    d.score,
                    d.decision,
                )
                .where(d.card_id == case["card_id"])
                .order_by(d.event_ms.desc())
                .limit(RECENT)
            )
            .mappings()
            .all()
        )
        labels = (
            conn.execute(
                select(
                    t.labels.c.label,
                    t.labels.c.reported_at_ms,
                    t.labels.c.source,
                    t.labels.c.provenance,
                )
                .where(t.labels.c.txn_id == case["txn_id"])
                .order_by(t.labels.c.seq)
            )
            .mappings()
            .all()
        )
    packed = decision["features"]
    features = unpack_features(packed) if packed is not None else {}
    why = contributions(settings, decision["model_version"], features)
    return {
        "case": case,
        "decision": {k: v for k, v in decision.items() if k != "features"},
        "features": {k: (None if math.isnan(v) else v) for k, v in features.items()},
        "contributions": why,
        "recent": [dict(r) for r in recent],
        "labels": [_with_provenance(dict(r)) for r in labels],
        "online": online_features(settings, case["card_id"], decision["merchant_id"]),
    }


def contributions(
    settings: Settings, model_version: str, features: dict[str, float]
) -> dict[str, Any]:
    """The top contributions of the model that scored the decision, or why there are none."""
    if not features:
        return {"available": False, "why": "the decision logged no features of this feature set"}
    try:
        model = _model(str(settings.models_dir), model_version)
    except (FraudGuardError, OSError) as exc:
        return {"available": False, "why": f"model {model_version}: {exc}"}
    explained = model.contributions(features)
    top = explained.by_feature[:TOP_CONTRIBUTIONS]
    return {
        "available": True,
        "model_version": model_version,
        "bias": explained.bias,
        "logit": explained.logit,
        "score": 1 / (1 + math.exp(-explained.logit)),
        "top": [
            {"feature": name, "contribution": value, "value": _finite(features.get(name))}
            for name, value in top
        ],
        "chart": charts.contribution_chart(top, f"Top {len(top)} contributions to the logit"),
    }


@functools.lru_cache(maxsize=8)
def _model(models_dir: str, version: str) -> XGBoostScorer:
    from pathlib import Path

    if version.startswith("rules"):
        raise ModelError("the rules scored it (no model was in force): nothing to explain")
    entry = ModelRegistry(Path(models_dir)).get(version)
    return XGBoostScorer.load(entry.path)


def online_features(settings: Settings, card_id: str, merchant_id: str) -> dict[str, Any]:
    """The newest features the job wrote for the card and the merchant, or why they are not."""
    reader = OnlineFeatureReader.from_settings(settings)
    out: dict[str, Any] = {}
    try:
        for entity, entity_id in (("card", card_id), ("merchant", merchant_id)):
            stored = reader.get(entity, entity_id) if entity_id else None
            out[entity] = (
                None
                if stored is None
                else {"ts_ms": stored.ts_ms, "txn_id": stored.txn_id, "features": stored.features}
            )
    except Exception as exc:  # Redis down or unreachable: the case still opens
        return {"available": False, "why": f"online store unavailable ({type(exc).__name__})"}
    finally:
        reader.client.close()
    return {"available": True, **out}


def _with_provenance(label: dict[str, Any]) -> dict[str, Any]:
    """A stored label with its provenance (analyst, guideline version, ...) as an object."""
    raw = label.pop("provenance")
    label["provenance"] = orjson.loads(raw) if raw else {}
    return label


def _finite(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else value
