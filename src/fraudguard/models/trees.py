"""A trained booster compiled to ``trees.json``, the file the job's JVM scores.

The job cannot use libxgboost: loaded into PyFlink's thread-mode interpreter (CPython embedded in
the JVM) it hangs on first use. So a trained booster is compiled once, where XGBoost runs, into
``trees.json``: per tree, each node's feature, threshold, children, default direction for a
missing value, and leaf value. The JVM reads it (``io.fraudguard.scoring.CompiledTrees``, about
4 us a transaction) and scores what the booster predicts to within float rounding; the format is
a contract between the two sides (``contracts/``).

>>> import numpy as np, xgboost as xgb
>>> X = np.array([[i] for i in range(20)], dtype=np.float32)
>>> booster = xgb.train({"nthread": 1, "objective": "binary:logistic", "max_depth": 1},
...                     xgb.DMatrix(X, label=X[:, 0] >= 10), num_boost_round=1)
>>> doc = orjson.loads(compile_booster(booster))
>>> doc["format"], doc["num_feature"], len(doc["trees"]), doc["trees"][0]["left"]
('fraudguard-trees-1', 1, 1, [1, -1, -1])
"""

from __future__ import annotations

import math
from typing import Any

import orjson

FORMAT = "fraudguard-trees-1"


def compile_booster(booster: Any) -> bytes:
    """``trees.json`` of a binary:logistic XGBoost booster (needs xgboost; run it offline)."""
    model = orjson.loads(bytes(booster.save_raw("json")))
    learner = model["learner"]
    objective = learner["objective"]["name"]
    if objective != "binary:logistic":
        raise ValueError(f"only binary:logistic boosters compile, not {objective}")
    base_score = float(str(learner["learner_model_param"]["base_score"]).strip("[]"))
    trees = []
    for tree in learner["gradient_booster"]["model"]["trees"]:
        if any(tree.get("split_type", [])):
            raise ValueError("categorical splits do not compile")
        trees.append(
            {
                "left": tree["left_children"],
                "right": tree["right_children"],
                "feature": tree["split_indices"],
                "threshold": tree["split_conditions"],
                "default_left": [int(d) for d in tree["default_left"]],
            }
        )
    return orjson.dumps(
        {
            "format": FORMAT,
            "base_margin": math.log(base_score / (1 - base_score)),
            "num_feature": int(learner["learner_model_param"]["num_feature"]),
            "trees": trees,
        }
    )
