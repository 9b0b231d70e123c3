"""The ``ground_truth`` topic: what the generator knows of every payment it made, for
evaluation and the outcomes service only (nothing that trains, decides or computes features
reads it).

Two kinds of record. A **truth** record is one of the generator's labels (our labels format,
docs/formats.md#label), sent with its payment rather than when a bank would have learnt it:
every fraudulent payment has one, legitimate ones only in a small sample. A **mark**
(key ``mark``) says that the truth of every payment with an event time at or before
``through_ms`` has been sent. Since a legitimate payment usually has no record, the mark is
what lets a reader tell "legitimate" from "its truth has not arrived yet": the topic has one
partition, so a mark always comes after the truth it vouches for.

>>> parse_ground_truth(encode_mark(1795428000123))
TruthMark(through_ms=1795428000123)
>>> parse_ground_truth(b'{"txn_id": "t1", "label": "fraud", "event_time": "2026-11-23T10:00:00Z"}')
Truth(txn_id='t1', fraud=True, ts_ms=1795428000000)
>>> parse_ground_truth(b'{"txn_id": "t1", "label": "maybe", "event_time": "x"}')
Traceback (most recent call last):
...
fraudguard.errors.InvalidLabel: bad_truth: label must be 'fraud' or 'legit', not 'maybe'
"""

from __future__ import annotations

from typing import NamedTuple

import orjson

from fraudguard.errors import InvalidLabel
from fraudguard.wire.labels import label_fields, label_object, label_time
from fraudguard.wire.transactions import format_event_time

MARK_KEY = "mark"


class Truth(NamedTuple):
    """Whether one payment was fraud, and its event time."""

    txn_id: str
    fraud: bool
    ts_ms: int


class TruthMark(NamedTuple):
    """The truth of every payment at or before ``through_ms`` has been sent."""

    through_ms: int


def encode_mark(through_ms: int) -> bytes:
    """A mark's value (its key is :data:`MARK_KEY`)."""
    return orjson.dumps({"through_ms": through_ms, "through": format_event_time(through_ms)})


def parse_ground_truth(raw: bytes | None) -> Truth | TruthMark:
    """One ``ground_truth`` record; ``InvalidLabel`` (reason ``bad_truth``) says what is wrong."""
    doc = label_object(raw, "bad_truth")
    if "through_ms" in doc:
        through = doc["through_ms"]
        if not isinstance(through, int) or isinstance(through, bool):
            raise InvalidLabel("bad_truth", "a mark's through_ms must be an integer")
        return TruthMark(through)
    txn_id, fraud = label_fields(doc, "bad_truth")
    return Truth(txn_id, fraud, label_time(doc, "event_time", "bad_truth"))
