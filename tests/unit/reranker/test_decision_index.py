"""The learner's decision index, without a broker: bounded, champion by decision time, labels
joined to the right base score, and re-scoring with a new model on the logged features."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from fraudguard.features import FEATURE_NAMES
from fraudguard.reranker.decision_index import RULES, DecisionIndex

FEATURE = FEATURE_NAMES[0]


def decision(txn_id: str, model: str = "m1", base: float = 0.2, at: int | None = None,
             degraded: bool = False, value: float = 1.0) -> dict[str, Any]:  # fmt: skip
    features = dict.fromkeys(FEATURE_NAMES, value)
    record: dict[str, Any] = {"txn_id": txn_id, "base_score": base, "model_version": model,
                              "degraded": degraded, "features": features}  # fmt: skip
    if at is not None:
        record["decided_at_ms"] = at
    return record


class Doubling:
    """A model that scores twice the first feature, and counts the rows it was asked for."""

    version = "m-new"
    feature_names = (FEATURE,)

    def __init__(self) -> None:
        self.rows = 0

    def predict_batch(self, rows: Any) -> list[float]:
        self.rows += len(rows)
        return [2.0 * float(row[0]) for row in np.asarray(rows)]


def test_the_oldest_decisions_leave_first_when_full() -> None:
    index = DecisionIndex((FEATURE,), capacity=3)
    for i in range(5):
        index.add(decision(f"t{i}"))
    assert len(index) == 3
    assert "t0" not in index and "t1" not in index and "t4" in index
    assert index.row("t0", True) is None


def test_a_label_joins_to_the_base_score_and_the_rerankers_features() -> None:
    index = DecisionIndex((FEATURE,), capacity=10)
    index.add(decision("t1", base=0.35, value=7.0))
    model, (base, features, label) = index.row("t1", False)  # type: ignore[misc]
    assert (model, base, features, label) == ("m1", 0.35, {FEATURE: 7.0}, False)


def test_a_decision_logged_before_base_scores_uses_its_score() -> None:
    index = DecisionIndex((FEATURE,), capacity=10)
    record = decision("t1")
    del record["base_score"]
    record["score"] = 0.6
    assert index.add(record)
    assert index.row("t1", True)[1][0] == 0.6  # type: ignore[index]


def test_a_rules_scored_decision_cannot_teach_and_is_not_the_champion() -> None:
    index = DecisionIndex((FEATURE,), capacity=10)
    assert index.add(decision("t1", at=5))
    assert not index.add(decision("t2", model="rules-v1", degraded=True, at=9))
    model, (base, features, _) = index.row("t2", True)  # type: ignore[misc]
    assert model == RULES and math.isnan(base) and features == {}
    assert index.latest_model == "m1"


def test_the_champion_is_the_model_of_the_newest_decision_in_any_arrival_order() -> None:
    index = DecisionIndex((FEATURE,), capacity=10)
    for txn_id, model, at in (("a", "m2", 30), ("b", "m1", 10), ("c", "m3", 20)):
        index.add(decision(txn_id, model=model, at=at))
    assert index.latest_model == "m2"


def test_rescoring_gives_held_decisions_the_new_models_score() -> None:
    index = DecisionIndex((FEATURE,), capacity=10, rescore_capacity=2)
    index.add(decision("old", value=1.0))  # its logged features leave the ring below
    index.add(decision("mid", value=2.0))
    index.add(decision("rules", model="rules-v1", degraded=True, value=3.0))
    model = Doubling()
    assert index.rescore(model) == 2
    assert model.rows == 2
    assert index.row("mid", True)[:1] == ("m-new",)  # type: ignore[index]
    assert index.row("mid", True)[1][0] == 4.0  # type: ignore[index]
    assert index.row("rules", True)[1][:2] == (6.0, {FEATURE: 3.0})  # type: ignore[index]
    assert index.row("old", True)[0] == "m1"  # type: ignore[index]
    assert index.rescore(model) == 0  # already the new model's


def test_a_model_needing_features_the_decisions_do_not_log_rescores_nothing() -> None:
    index = DecisionIndex((FEATURE,), capacity=10, rescore_capacity=5)
    index.add(decision("t1"))
    model = Doubling()
    model.feature_names = ("not_a_logged_feature",)  # type: ignore[assignment]
    assert index.rescore(model) == 0 and model.rows == 0


def test_feature_sample_takes_the_newest_of_one_model() -> None:
    index = DecisionIndex((FEATURE,), capacity=10)
    for i in range(6):
        index.add(decision(f"t{i}", model="m1" if i % 2 else "m2", value=float(i)))
    assert list(index.feature_sample(2, "m1")) == [{FEATURE: 5.0}, {FEATURE: 3.0}]


@pytest.mark.parametrize("bad", ["x", None])
def test_a_decision_whose_features_are_not_numbers_is_kept_but_not_rescored(bad: Any) -> None:
    index = DecisionIndex((FEATURE,), capacity=10, rescore_capacity=5)
    record = decision("t1")
    record["features"] = {**record["features"], FEATURE_NAMES[-1]: bad}
    index.add(record)
    assert "t1" in index
    if bad is None:  # a missing value is NaN, still re-scorable
        assert index.rescore(Doubling()) == 1
    else:
        assert index.rescore(Doubling()) == 0
