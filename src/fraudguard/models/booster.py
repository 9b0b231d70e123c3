"""The trained model scored by XGBoost itself, outside the job: rows of features in batches.

Scoring a batch costs about as much as scoring one row, so the job gathers a few transactions
and scores them together. Scores are exactly the booster's own predictions on the same
features (both cast to float32, as the trees were trained on), so the score in a decision
equals the offline prediction of the same model.

>>> import numpy as np, xgboost as xgb
>>> X = np.array([[i, i % 2] for i in range(40)], dtype=np.float32)
>>> booster = xgb.train({"nthread": 1, "objective": "binary:logistic"},
...                     xgb.DMatrix(X, label=X[:, 0] >= 20), num_boost_round=5)
>>> model = XGBoostScorer(booster, version="demo", feature_names=("amount", "online"))
>>> scores = model.predict_batch([[2.0, 0.0], [35.0, 1.0]])
>>> scores[0] < 0.5 < scores[1], model.predict_one([35.0, 1.0]) == scores[1]
(True, True)
>>> model.row({"online": 1.0, "amount": 5.0})
[5.0, 1.0]
>>> why = model.contributions({"amount": 35.0, "online": 1.0})
>>> why.by_feature[0][0], abs(why.logit - math.log(scores[1] / (1 - scores[1]))) < 1e-4
('amount', True)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
import xgboost as xgb

from fraudguard.errors import ModelError

METADATA_FILE = "metadata.json"


class XGBoostScorer:
    """A loaded booster with its version and feature order; predicts on one thread.

    One thread: the job runs one scorer per Python worker, and XGBoost's thread pool would only
    add start-up cost to batches this small.
    """

    def __init__(self, booster: xgb.Booster, version: str, feature_names: Sequence[str]) -> None:
        booster.set_param({"nthread": 1})
        self._booster = booster
        self.version = version
        self.feature_names = tuple(feature_names)
        if booster.num_features() != len(self.feature_names):
            raise ModelError(
                f"model {version} expects {booster.num_features()} features, "
                f"{len(self.feature_names)} names given"
            )

    @classmethod
    def load(cls, path: Path) -> XGBoostScorer:
        """A model from a registry folder (``metadata.json`` names the file, the version and the
        features) or from a bare ``.ubj``/``.json`` model file (its stem is the version)."""
        try:
            if path.is_dir():
                import orjson

                meta = orjson.loads((path / METADATA_FILE).read_bytes())
                booster = xgb.Booster(model_file=str(path / meta["model_file"]))
                return cls(booster, meta["version"], meta["feature_names"])
            booster = xgb.Booster(model_file=str(path))
        except (OSError, KeyError, ValueError, xgb.core.XGBoostError) as exc:
            raise ModelError(f"cannot load a model from {path}: {exc}") from exc
        names = booster.feature_names or [f"f{i}" for i in range(booster.num_features())]
        return cls(booster, path.stem, names)

    @property
    def booster(self) -> xgb.Booster:
        return self._booster

    def row(self, features: Mapping[str, float]) -> list[float]:
        """A feature mapping as a row in the model's order (a missing feature is an error)."""
        try:
            return [float(features[name]) for name in self.feature_names]
        except KeyError as exc:
            raise ModelError(f"model {self.version} needs feature {exc.args[0]!r}") from None

    def predict_batch(self, rows: Sequence[Sequence[float]]) -> list[float]:
        """Fraud probability of each row; each row lists features in :attr:`feature_names`."""
        if len(rows) == 0:
            return []
        X = np.asarray(rows, dtype=np.float32)
        if X.ndim != 2 or X.shape[1] != len(self.feature_names):
            raise ModelError(
                f"model {self.version} scores rows of {len(self.feature_names)} features, "
                f"got shape {X.shape}"
            )
        scores: list[float] = self._booster.inplace_predict(X, validate_features=False).tolist()
        return scores

    def predict_one(self, row: Sequence[float]) -> float:
        """Fraud probability of a single row."""
        return self.predict_batch([row])[0]

    def contributions(self, features: Mapping[str, float]) -> Contributions:
        """Why the model scored ``features`` as it did: each feature's share of the score's
        logit (XGBoost's SHAP values, ``pred_contribs``), named, largest effect first, and the
        bias; they add up to the logit of :meth:`predict_one`. A feature the record lacks is
        missing (NaN), as the job scores it."""
        row = np.array(
            [[features.get(name, math.nan) for name in self.feature_names]], dtype=np.float32
        )
        data = xgb.DMatrix(row, missing=math.nan, feature_names=self._booster.feature_names)
        values = self._booster.predict(data, pred_contribs=True)[0]
        named = sorted(
            zip(self.feature_names, (float(v) for v in values[:-1]), strict=True),
            key=lambda pair: -abs(pair[1]),
        )
        return Contributions(named, float(values[-1]))


class Contributions(NamedTuple):
    """Each feature's contribution to the logit, largest effect first, and the bias."""

    by_feature: list[tuple[str, float]]
    bias: float

    @property
    def logit(self) -> float:
        return self.bias + sum(value for _, value in self.by_feature)
