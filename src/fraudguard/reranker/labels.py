"""A record of the ``labels`` topic, as the re-ranker learner reads it.

>>> parse_label(b'{"txn_id": "t1", "label": "fraud", "reported_at": "x"}')
('t1', True)
>>> parse_label(b'{"txn_id": "t1", "label": "maybe"}')
Traceback (most recent call last):
...
fraudguard.errors.InvalidLabel: bad_label: label must be 'fraud' or 'legit', not 'maybe'
"""

from __future__ import annotations

from fraudguard.wire.labels import label_fields, label_object


def parse_label(raw: bytes | None) -> tuple[str, bool]:
    """``(txn_id, is_fraud)`` of one ``labels`` record; ``InvalidLabel`` says what is wrong."""
    return label_fields(label_object(raw, "bad_label"), "bad_label")
