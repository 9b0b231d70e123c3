"""The fields every label record shares (``labels`` and ``ground_truth`` topics,
docs/formats.md#label), read once for both; ``reason`` names the topic's refusal. The
payment's entities (:func:`label_entities`) are optional: older labels lack them.

>>> label_fields(label_object(b'{"txn_id": "t1", "label": "legit"}', "bad_label"), "bad_label")
('t1', False)
>>> label_object(b"[]", "bad_truth")
Traceback (most recent call last):
...
fraudguard.errors.InvalidLabel: bad_truth: must be a JSON object
"""

from __future__ import annotations

from typing import Any

import orjson

from fraudguard.errors import InvalidLabel, InvalidTransaction
from fraudguard.wire.transactions import parse_event_time


def label_object(raw: bytes | None, reason: str) -> dict[str, Any]:
    """The record's JSON object; ``InvalidLabel(reason)`` when it is not one."""
    try:
        doc = orjson.loads(raw or b"")
    except orjson.JSONDecodeError as exc:
        raise InvalidLabel(reason, f"not JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise InvalidLabel(reason, "must be a JSON object")
    return doc


def label_fields(doc: dict[str, Any], reason: str) -> tuple[str, bool]:
    """``(txn_id, is_fraud)``; ``InvalidLabel(reason)`` when either is missing or wrong."""
    txn_id, label = doc.get("txn_id"), doc.get("label")
    if not isinstance(txn_id, str) or not txn_id:
        raise InvalidLabel(reason, "txn_id must be a non-empty string")
    if label not in ("fraud", "legit"):
        raise InvalidLabel(reason, f"label must be 'fraud' or 'legit', not {label!r}")
    return txn_id, label == "fraud"


def label_entities(doc: dict[str, Any]) -> tuple[str, str, str] | None:
    """``(card_id, merchant_id, terminal_id)`` of a label, for the label-fed risk features;
    None unless all three are non-empty strings (labels written before they were named, or by
    a producer that could not know them, still teach the re-ranker).

    >>> label_entities({"txn_id": "t1", "card_id": "c1", "merchant_id": "m1",
    ...                 "terminal_id": "m1-t2", "label": "fraud"})
    ('c1', 'm1', 'm1-t2')
    >>> label_entities({"txn_id": "t1", "card_id": "c1", "merchant_id": "m1", "terminal_id": ""})
    >>> label_entities({"txn_id": "t1", "card_id": "c1"}) is None
    True
    """
    card, merchant, terminal = doc.get("card_id"), doc.get("merchant_id"), doc.get("terminal_id")
    if isinstance(card, str) and isinstance(merchant, str) and isinstance(terminal, str):
        if card and merchant and terminal:
            return card, merchant, terminal
    return None


def label_time(doc: dict[str, Any], field: str, reason: str) -> int:
    """``doc[field]`` in epoch milliseconds; ``InvalidLabel(reason)`` unless it is an ISO-8601
    time with a UTC offset.

    >>> label_time({"reported_at": "2026-11-23T10:00:00Z"}, "reported_at", "bad_label")
    1795428000000
    >>> label_time({}, "event_time", "bad_truth")
    Traceback (most recent call last):
    ...
    fraudguard.errors.InvalidLabel: bad_truth: event_time must be a string
    """
    value = doc.get(field)
    if not isinstance(value, str):
        raise InvalidLabel(reason, f"{field} must be a string")
    try:
        return parse_event_time(value)
    except InvalidTransaction as exc:
        raise InvalidLabel(reason, exc.detail) from None
