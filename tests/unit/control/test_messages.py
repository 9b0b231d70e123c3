"""Control messages: tiers survive the wire exactly; anything else is refused, saying why."""

from __future__ import annotations

import orjson
import pytest

from fraudguard.config import PROJECT_ROOT
from fraudguard.control.messages import (
    MAX_CONTROL_BYTES,
    ThresholdsChange,
    control_key,
    parse_control,
    thresholds_message,
)
from fraudguard.decision import load_tiers
from fraudguard.errors import ConfigError, ControlMessageError, FraudGuardError

EXAMPLE = load_tiers(PROJECT_ROOT / "thresholds" / "segments-example.yaml")


def test_tiers_round_trip_compactly() -> None:
    raw = thresholds_message(EXAMPLE, issued_at_ms=1_795_428_000_000)
    assert raw == orjson.dumps(orjson.loads(raw))  # no whitespace between tokens
    change = parse_control(raw)
    assert change == ThresholdsChange(EXAMPLE, 1_795_428_000_000)
    assert control_key(change) == b"thresholds"
    doc = orjson.loads(raw)
    assert list(doc) == ["type", "version", "tiers", "issued_at_ms"]
    assert doc["version"] == EXAMPLE.version and "version" not in doc["tiers"]
    # Open-ended bands carry no max (JSON has no infinity).
    assert {"min": 1000.0} in [o.get("amount_eur") for o in doc["tiers"]["overrides"]]


def test_issued_at_is_optional() -> None:
    raw = thresholds_message(EXAMPLE)
    assert b"issued_at_ms" not in raw and parse_control(raw).issued_at_ms is None


def _thresholds(**changes: object) -> bytes:
    doc = orjson.loads(thresholds_message(EXAMPLE, 5))
    for key, value in changes.items():
        if value is DROP:
            del doc[key]
        else:
            doc[key] = value
    return orjson.dumps(doc)


DROP = object()
_GOOD_TIERS = orjson.loads(thresholds_message(EXAMPLE))["tiers"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, "control message: empty"),
        (b"", "control message: empty"),
        (b"{nope", "control message: not JSON"),
        (b"[1]", "control message: must be a JSON object"),
        (b"{}", "control message: unknown type None (known: model, reranker, thresholds)"),
        (b'{"type": 3}', "control message: unknown type 3"),
        (b'{"type": "champion", "version": "m1"}', "control message: unknown type 'champion'"),
        (b'{"type": "model", "action": "promote", "reasons": [], "at_ms": 1, "x": 1}',
         "control message (model): x: unknown key"),
        (b'{"type": "model", "action": "retire", "reasons": [], "at_ms": 1}',
         "control message (model): action: promote, rollback or none, not 'retire'"),
        (b'{"type": "model", "action": "promote", "reasons": "better", "at_ms": 1}',
         "control message (model): reasons: must be a list of strings"),
        (b" " * (MAX_CONTROL_BYTES + 1), "over 1000000 bytes"),
        (_thresholds(version=DROP), "control message (thresholds): version: is required"),
        (_thresholds(version=7), "control message (thresholds): version: must be a string"),
        (_thresholds(tiers=DROP), "control message (thresholds): tiers: must be an object"),
        (_thresholds(tiers=[1]), "control message (thresholds): tiers: must be an object"),
        (_thresholds(tiers={**_GOOD_TIERS, "version": "x"}), "tiers.version: belongs at the top"),
        (_thresholds(tiers={**_GOOD_TIERS, "block": 0.1}),
         "control message (thresholds): block: 0.1 must be above review (0.5)"),
        (_thresholds(tiers={**_GOOD_TIERS, "overrides": [{"name": "x", "review": 0.1}]}),
         "control message (thresholds): overrides[0].block: is required"),
        (_thresholds(issued_at_ms="now"), "issued_at_ms: must be an integer"),
        (_thresholds(issued_at_ms=True), "issued_at_ms: must be an integer"),
        (_thresholds(author="me"), "control message (thresholds): author: unknown key"),
    ],
)  # fmt: skip
def test_bad_messages_are_refused_with_the_reason(raw: bytes | None, expected: str) -> None:
    with pytest.raises(ControlMessageError) as caught:
        parse_control(raw)
    assert expected in str(caught.value), str(caught.value)


def test_control_errors_are_config_errors() -> None:
    assert issubclass(ControlMessageError, ConfigError)
    assert issubclass(ControlMessageError, FraudGuardError)
    assert ControlMessageError.http_status == 400


def test_a_reranker_snapshot_travels_as_a_control_message() -> None:
    from fraudguard.control.reranker_message import RerankerChange, reranker_message
    from fraudguard.reranker.model import Reranker

    reranker = Reranker(clock=lambda: 1_795_428_000_000)
    reranker.learn_batch([(0.9, {"card_count_1h": 4.0}, True), (0.1, {}, False)])
    change = parse_control(reranker_message(reranker.snapshot()))
    assert isinstance(change, RerankerChange) and control_key(change) == b"reranker"
    assert change.snapshot == reranker.snapshot()
    assert change.snapshot.restore().weights == reranker.weights
