"""A gradient-boosted tree model compiled to flat arrays, scored with numpy alone.

The job cannot use libxgboost: loaded into PyFlink's thread-mode interpreter (CPython embedded in
the JVM) it hangs on first use, measured here, while process mode, slower by far, would run it.
So a trained booster is compiled once, where XGBoost runs, into ``trees.json``: per tree, each
node's feature, threshold, children, default direction for a missing value, and leaf value.
Two ways to score, both equal to the booster's own prediction to within float rounding (tested
to 1e-6):

- ``predict(rows)`` walks all trees at once, one depth level per numpy step, summing in float32
  like XGBoost: for batches (about 140 us of numpy overhead whatever the batch size).
- ``predict_one(row)`` runs the trees compiled to one Python function of nested comparisons
  (generated from the arrays, numbers only): one transaction at a time, about 20 us for 150
  trees of depth 6 (``bench/scoring.py``).

The job reads the same ``trees.json`` in the JVM (``io.fraudguard.scoring.CompiledTrees``, about
4 us a transaction).

One tree, one split (feature 0 below 2.5 goes left, a missing value goes right):

>>> doc = {"format": FORMAT, "base_margin": 0.0, "num_feature": 1, "trees": [
...     {"left": [1, -1, -1], "right": [2, -1, -1], "feature": [0, 0, 0],
...      "threshold": [2.5, -1.0, 1.0], "default_left": [0, 0, 0]}]}
>>> trees = CompiledTrees(doc)
>>> [round(p, 4) for p in trees.predict([[1.0], [3.0], [float("nan")]])]
[0.2689, 0.7311, 0.7311]
>>> [round(trees.predict_one(row), 4) for row in ([1.0], [3.0], [float("nan")])]
[0.2689, 0.7311, 0.7311]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
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


class CompiledTrees:
    """Trees as ``(n_trees, n_nodes)`` arrays; a leaf is a node whose left child is -1."""

    def __init__(self, doc: dict[str, Any]) -> None:
        if doc.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} document")
        trees = doc["trees"]
        width = max(len(t["left"]) for t in trees)

        def table(key: str, dtype: Any, fill: float) -> np.ndarray:
            out = np.full((len(trees), width), fill, dtype=dtype)
            for i, tree in enumerate(trees):
                out[i, : len(tree[key])] = tree[key]
            return out

        self.left = table("left", np.int32, -1)
        self.right = table("right", np.int32, -1)
        self.feature = table("feature", np.int32, 0)
        self.threshold = table("threshold", np.float32, 0.0)
        self.default_left = table("default_left", np.bool_, 1)
        self.leaf = self.left < 0
        self.base_margin = np.float32(doc["base_margin"])
        self.num_feature = int(doc["num_feature"])
        self.depth = _max_depth(self.left, self.right)
        self._rows = np.arange(len(trees))
        self._margin_one: Callable[[list[float]], float] | None = None

    @classmethod
    def from_json(cls, raw: bytes) -> CompiledTrees:
        return cls(orjson.loads(raw))

    def margin(self, x: np.ndarray) -> np.ndarray:
        """Raw margins of rows ``x`` (shape ``(n, num_feature)``, float32, NaN = missing)."""
        node = np.zeros((x.shape[0], len(self._rows)), dtype=np.int32)
        trees = self._rows[None, :]
        for _ in range(self.depth):
            feature = self.feature[trees, node]
            value = np.take_along_axis(x, feature, axis=1)
            go_left = np.where(
                np.isnan(value), self.default_left[trees, node], value < self.threshold[trees, node]
            )
            child = np.where(go_left, self.left[trees, node], self.right[trees, node])
            node = np.where(self.leaf[trees, node], node, child)
        # Leaves hold their value in ``threshold``; sum in float32 as XGBoost does.
        leaves = self.threshold[trees, node]
        return leaves.sum(axis=1, dtype=np.float32) + self.base_margin

    def predict(self, rows: Sequence[Sequence[float]] | np.ndarray) -> list[float]:
        x = np.asarray(rows, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != self.num_feature:
            raise ValueError(f"rows must have {self.num_feature} features, got shape {x.shape}")
        margin = self.margin(x).astype(np.float64)
        return (1.0 / (1.0 + np.exp(-margin))).tolist()

    def predict_one(self, row: Sequence[float]) -> float:
        """The fraud probability of one row (NaN = missing), through the generated function."""
        if len(row) != self.num_feature:
            raise ValueError(f"rows must have {self.num_feature} features, got {len(row)}")
        if self._margin_one is None:
            self._margin_one = self._compile()
        # float32 values compare with float32 thresholds exactly as XGBoost compares them.
        x = np.asarray(row, dtype=np.float32).tolist()
        return 1.0 / (1.0 + math.exp(-self._margin_one(x)))

    def _compile(self) -> Callable[[list[float]], float]:
        lines = ["def margin(x):", f"    m = {_literal(float(self.base_margin))}"]
        left, right, feature = self.left.tolist(), self.right.tolist(), self.feature.tolist()
        threshold, default_left = self.threshold.tolist(), self.default_left.tolist()

        def emit(t: int, node: int, pad: str) -> None:
            if left[t][node] < 0:
                lines.append(f"{pad}m += {_literal(threshold[t][node])}")
                return
            f, thr = int(feature[t][node]), _literal(threshold[t][node])
            # NaN fails every comparison: "not >=" sends it left, "<" sends it right.
            test = f"not x[{f}] >= {thr}" if default_left[t][node] else f"x[{f}] < {thr}"
            lines.append(f"{pad}if {test}:")
            emit(t, left[t][node], pad + "    ")
            lines.append(f"{pad}else:")
            emit(t, right[t][node], pad + "    ")

        for t in range(len(left)):
            emit(t, 0, "    ")
        lines.append("    return m")
        namespace: dict[str, Any] = {}
        # The source holds only numbers and indices read from the arrays above.
        exec(compile("\n".join(lines), f"<{len(left)} compiled trees>", "exec"), namespace)
        return namespace["margin"]  # type: ignore[no-any-return]


def _literal(value: float) -> str:
    """A Python literal for a float32 value held in a float (exact: repr round-trips)."""
    if math.isfinite(value):
        return repr(value)
    return f"float('{value}')"


def _max_depth(left: np.ndarray, right: np.ndarray) -> int:
    """Edges on the longest root-to-leaf path over all trees."""
    deepest = 0
    for lefts, rights in zip(left.tolist(), right.tolist(), strict=True):
        stack = [(0, 0)]
        while stack:
            node, depth = stack.pop()
            if lefts[node] < 0:
                deepest = max(deepest, depth)
            else:
                stack += [(lefts[node], depth + 1), (rights[node], depth + 1)]
    return deepest
