"""The decision record: JSON with every version field, and feature values the JVM already
wrote spliced in exactly."""

from __future__ import annotations

import pickle
import struct
from dataclasses import replace

import orjson
import pytest

from fraudguard.wire.decisions import DecisionRecord, WrittenFeatures


def test_decision_record_is_json_with_every_version_field() -> None:
    rec = DecisionRecord(
        "t", "c", "2026-11-23T10:00:00Z", "approve", 0.1, "m1", "th1", 5, {"f": 1.0}
    )
    doc = orjson.loads(rec.to_json())
    assert {
        "model_version",
        "threshold_version",
        "reranker_version",
        "propensity",
        "features",
    } <= set(doc)


def written(values: dict[str, float]) -> WrittenFeatures:
    """As the job hands them over: the values packed behind a header, and their JSON."""
    packed = b"head" + struct.pack(f"<{len(values)}d", *values.values())
    index = {name: at for at, name in enumerate(values)}
    return WrittenFeatures(index, packed, 4, orjson.dumps(values))


def test_a_record_with_written_features_is_the_same_json_as_with_a_dict() -> None:
    values = {"card_count_1h": 3.0, "amount_ratio": -0.125, "gap_s": 1e-7, "zero": -0.0}
    as_dict = DecisionRecord("t", "c", "e", "review", 0.7, "m1", "th1", 5, values, late=True)
    as_written = replace(as_dict, features=written(values))
    assert as_written.to_json() == as_dict.to_json()
    assert as_written.features == values and dict(as_written.features) == values
    assert list(as_written.features) == list(values)


def test_written_features_read_single_values_and_refuse_unknown_names() -> None:
    features = written({"a": 1.5, "b": 2.0})
    assert features["b"] == 2.0 and features.get("a") == 1.5
    assert features.get("c") is None and "c" not in features and len(features) == 2
    with pytest.raises(KeyError):
        features["c"]


def test_a_record_with_written_features_survives_pickling() -> None:
    # The job pickles would-be reviews and blocks on their way to the exploration step.
    record = DecisionRecord("t", "c", "e", "block", 0.9, "m1", "th1", 5, written({"a": 1.5}))
    back = pickle.loads(pickle.dumps(record))
    assert back.to_json() == record.to_json()
    assert replace(back, decision="approve").to_json() == record.to_json().replace(
        b'"block"', b'"approve"'
    )


def test_a_record_refuses_features_it_cannot_write() -> None:
    record = DecisionRecord("t", "c", "e", "approve", 0.1, "m1", "th1", 5, {"a": object()})
    with pytest.raises(TypeError):
        record.to_json()
