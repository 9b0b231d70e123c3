"""Python's side of the Python<->JVM contracts (contracts/README.md): what Python writes is valid
against the schemas and equal to the golden files the JUnit tests read, and Python reads the
golden packed records the JVM wrote."""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import orjson
import pytest
import xgboost as xgb

from fraudguard.features.spec import feature_spec
from fraudguard.flink.batches import unpack_features
from fraudguard.models.trees import compile_booster

CONTRACTS = Path(__file__).parents[3] / "contracts"


def golden(name: str) -> Any:
    return json.loads((CONTRACTS / name).read_text())


def validator(name: str) -> jsonschema.Draft202012Validator:
    schema = golden(f"{name}.schema.json")
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_python_writes_the_golden_feature_spec() -> None:
    spec = feature_spec()
    validator("feature-spec").validate(spec)
    assert spec == golden("feature-spec.json"), (
        "the registry changed; if on purpose, write the golden spec again with "
        "`python -m fraudguard.features.spec contracts/feature-spec.json` and run `make jvm-test`"
    )


def test_a_declaration_the_kernel_cannot_evaluate_breaks_the_schema() -> None:
    spec = feature_spec()
    spec["features"][6] = {**spec["features"][6], "agg": "median"}
    with pytest.raises(jsonschema.ValidationError):
        validator("feature-spec").validate(spec)


@pytest.mark.parametrize("depth", [1, 4])
def test_compiled_boosters_and_the_golden_trees_are_valid(depth: int) -> None:
    rng = np.random.default_rng(depth)
    X = rng.normal(size=(400, 5)).astype(np.float32)
    X[rng.random(X.shape) < 0.1] = np.nan  # missing values give splits a default side
    data = xgb.DMatrix(X, label=rng.random(400) < 0.3)
    booster = xgb.train({"objective": "binary:logistic", "max_depth": depth}, data, 5)
    trees = validator("trees")
    compiled = orjson.loads(compile_booster(booster))
    trees.validate(compiled)
    assert compiled["num_feature"] == 5
    trees.validate(golden("trees.json"))


def bits(value: float | None) -> bytes:
    """A double's bytes (NaN for null), so -0.0 and 0.0 differ."""
    return struct.pack("<d", math.nan if value is None else value)


def test_python_reads_the_golden_packed_records() -> None:
    records = golden("packed-decision.json")
    validator("packed-decision").validate(records)
    index = {name: i for i, name in enumerate(golden("feature-spec.json")["names"])}
    for record in records["records"]:
        features, late, scored, shadow, transaction = unpack_features(
            bytes.fromhex(record["packed_hex"]), index
        )
        assert [bits(features[name]) for name in index] == [bits(v) for v in record["features"]]
        assert features.json == record["features_json"].encode()
        assert list(orjson.loads(features.json).values()) == [
            None if v is None or math.isnan(v) else v for v in record["features"]
        ]
        assert late is record["late"]
        want = None if record["score"] is None else (record["score"], record["model_version"])
        assert scored == want
        challenger = record["challenger_score"], record["challenger_version"]
        assert shadow == (None if challenger[0] is None else challenger)
        assert transaction == record["transaction_json"].encode()
