"""The fields every label record shares (``labels`` and ``ground_truth`` topics,
docs/formats.md#label), read once for both; ``reason`` names the topic's refusal.

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

from fraudguard.errors import InvalidLabel


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
