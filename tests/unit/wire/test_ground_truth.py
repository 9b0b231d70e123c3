"""The ground_truth topic's records: truth and marks, and what is refused."""

from __future__ import annotations

import orjson
import pytest

from fraudguard.errors import InvalidLabel
from fraudguard.generator import GeneratorConfig, PaymentStream
from fraudguard.wire.ground_truth import Truth, TruthMark, encode_mark, parse_ground_truth
from fraudguard.wire.labels import label_entities


def test_the_generator_s_labels_read_as_truth():
    stream = PaymentStream(
        GeneratorConfig(seed=2, cards=300, merchants=60, days=3, fraud_rate=0.02)
    )
    labels = [lab for batch in stream.batches() for lab in batch.labels]
    assert labels
    for lab in labels:
        truth = parse_ground_truth(orjson.dumps(lab.to_dict()))
        assert truth == Truth(lab.txn_id, lab.label == "fraud", truth.ts_ms)
        assert label_entities(lab.to_dict()) == (lab.card_id, lab.merchant_id, lab.terminal_id)


def test_a_mark_reads_back():
    assert parse_ground_truth(encode_mark(0)) == TruthMark(0)


@pytest.mark.parametrize(
    "raw",
    [
        None,
        b"{",
        b"[1]",
        b'{"through_ms": "soon"}',
        b'{"through_ms": true}',
        b'{"label": "fraud", "event_time": "2026-01-01T00:00:00Z"}',
        b'{"txn_id": "t", "label": "yes", "event_time": "2026-01-01T00:00:00Z"}',
        b'{"txn_id": "t", "label": "fraud"}',
        b'{"txn_id": "t", "label": "fraud", "event_time": "yesterday"}',
    ],
)
def test_what_is_not_ground_truth_is_refused(raw):
    with pytest.raises(InvalidLabel) as caught:
        parse_ground_truth(raw)
    assert caught.value.reason == "bad_truth"
