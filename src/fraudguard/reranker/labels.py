"""A record of the ``labels`` topic, as the re-ranker learner reads it.

>>> parse_label(b'{"txn_id": "t1", "label": "fraud", "reported_at": "x"}')
('t1', True)
>>> parse_label(b'{"txn_id": "t1", "label": "maybe"}')
Traceback (most recent call last):
...
fraudguard.errors.InvalidLabel: bad_label: label must be 'fraud' or 'legit', not 'maybe'
"""

from __future__ import annotations

import orjson

from fraudguard.errors import InvalidLabel


def parse_label(raw: bytes | None) -> tuple[str, bool]:
    """``(txn_id, is_fraud)`` of one ``labels`` record; ``InvalidLabel`` says what is wrong."""
    try:
        doc = orjson.loads(raw or b"")
    except orjson.JSONDecodeError as exc:
        raise InvalidLabel("bad_label", f"not JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise InvalidLabel("bad_label", "must be a JSON object")
    txn_id, label = doc.get("txn_id"), doc.get("label")
    if not isinstance(txn_id, str) or not txn_id:
        raise InvalidLabel("bad_label", "txn_id must be a non-empty string")
    if label not in ("fraud", "legit"):
        raise InvalidLabel("bad_label", f"label must be 'fraud' or 'legit', not {label!r}")
    return txn_id, label == "fraud"
