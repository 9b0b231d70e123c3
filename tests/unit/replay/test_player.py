"""What the replay player sends to the labels topic."""

from __future__ import annotations

from pathlib import Path

import orjson

from fraudguard.replay.player import labels_by_report_time
from fraudguard.wire.labels import label_entities


def _jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(row) + b"\n" for row in rows))
    return path


def test_labels_without_entities_get_them_from_their_payments(tmp_path: Path) -> None:
    transactions = _jsonl(tmp_path / "t.jsonl", [
        {"txn_id": f"t{i}", "card_id": f"c{i % 3}", "merchant_id": f"m{i % 2}",
         "terminal_id": f"m{i % 2}-t1", "event_time": f"2026-01-0{i + 1}T00:00:00Z"}
        for i in range(4)
    ])  # fmt: skip
    labels = _jsonl(tmp_path / "l.jsonl", [
        {"txn_id": "t3", "label": "fraud", "reported_at": "2026-01-09T00:00:00Z"},
        {"txn_id": "t1", "label": "fraud", "reported_at": "2026-01-05T00:00:00Z",
         "card_id": "c1", "merchant_id": "m1", "terminal_id": "m1-t9"},
        {"txn_id": "t404", "label": "legit", "reported_at": "2026-01-06T00:00:00Z"},
    ])  # fmt: skip
    sent = [(ts, orjson.loads(value), key) for ts, value, key in labels_by_report_time(
        labels, transactions)]  # fmt: skip
    assert [doc["txn_id"] for _, doc, _ in sent] == ["t1", "t404", "t3"]  # by report time
    entities = [label_entities(doc) for _, doc, _ in sent]
    # A label's own entities win; one without any takes its payment's; an unknown payment's
    # label goes as it came (the job counts it as naming no entities).
    assert entities == [("c1", "m1", "m1-t9"), None, ("c0", "m1", "m1-t1")]
    assert [key for _, _, key in sent] == ["c1", "", "c0"]


def test_every_label_of_a_payment_gets_its_entities(tmp_path: Path) -> None:
    transactions = _jsonl(tmp_path / "t.jsonl", [
        {"txn_id": "t1", "card_id": "c1", "merchant_id": "m1", "terminal_id": "m1-t1",
         "event_time": "2026-01-01T00:00:00Z"},
    ])  # fmt: skip
    labels = _jsonl(tmp_path / "l.jsonl", [
        {"txn_id": "t1", "label": "fraud", "reported_at": "2026-01-02T00:00:00Z"},
        {"txn_id": "t1", "label": "legit", "reported_at": "2026-01-03T00:00:00Z"},
    ])  # fmt: skip
    sent = [orjson.loads(value) for _, value, _ in labels_by_report_time(labels, transactions)]
    assert [label_entities(doc) for doc in sent] == [("c1", "m1", "m1-t1")] * 2
