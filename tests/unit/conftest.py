"""Fixtures of the unit tests: stand-ins for what the integration tests have for real."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from fraudguard.config import PROJECT_ROOT, Settings
from fraudguard.control import changes
from fraudguard.control.messages import ControlMessage
from fraudguard.control.topic import Delivered, parse_changes


class ControlTopic:
    """The ``control`` topic as the list of the bytes produced to it."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []

    def read(self, settings: Settings, kind: type) -> list[Any]:
        return parse_changes(kind, enumerate(self.messages))

    def publish(self, settings: Settings, change: ControlMessage) -> Delivered:
        self.messages.append(change.to_json())
        return Delivered(settings.topics.control.name, 0, len(self.messages) - 1)


@pytest.fixture
def control(monkeypatch: pytest.MonkeyPatch) -> ControlTopic:
    """Every live change (``fraudguard.control.changes``) goes to an in-memory control topic."""
    topic = ControlTopic()
    monkeypatch.setattr(changes, "read_control", topic.read)
    monkeypatch.setattr(changes, "publish_control", topic.publish)
    return topic


@dataclass(frozen=True)
class RecordedEndpoint:
    port: int
    job_name: str
    """The job whose metrics the endpoint serves."""


@pytest.fixture
def recorded_endpoint() -> Iterator[RecordedEndpoint]:
    """A job's metrics endpoint on loopback that answers every GET with the scrape of a real
    job's reporter (``tests/data/job_metrics.prom``): 500 payments and one ``bad_json``
    message, decided by the rules."""
    recorded = (PROJECT_ROOT / "tests" / "data" / "job_metrics.prom").read_bytes()

    class Recorded(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(recorded)

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Recorded)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield RecordedEndpoint(server.server_address[1], "fraudguard-test-m06794e")
    finally:
        server.shutdown()
        server.server_close()


@dataclass(frozen=True)
class LabelledStream:
    """A small generated stream in processing order with fraud labels on some payments,
    reported in the same millisecond as a later payment, a millisecond later, minutes, hours
    and days later; and labels that feed nothing (legitimate, without entities, after the last
    payment)."""

    transactions: list[Any]
    labels: list[Any]
    """The :class:`~fraudguard.features.labels.FraudLabel` s that feed the features."""
    docs: list[dict[str, Any]]
    """Every label as a labels file holds it."""

    def write(self, folder: Any) -> tuple[Any, Any]:
        """The transactions and labels files (JSONL) in ``folder``."""
        import orjson

        txns, labels = folder / "transactions.jsonl", folder / "labels.jsonl"
        txns.write_bytes(b"".join(orjson.dumps(t.to_wire()) + b"\n" for t in self.transactions))
        labels.write_bytes(b"".join(orjson.dumps(doc) + b"\n" for doc in self.docs))
        return txns, labels


@pytest.fixture(scope="session")
def labelled_stream() -> LabelledStream:
    from fraudguard.features.labels import FraudLabel
    from fraudguard.generator import GeneratorConfig, PaymentStream
    from fraudguard.wire.transactions import format_event_time

    config = GeneratorConfig(seed=17, cards=50, merchants=60, days=3)
    txns = sorted(PaymentStream(config).transactions(), key=lambda t: (t.ts_ms, t.txn_id))
    delays = [1, 60_000, 3_600_000, 6 * 3_600_000, 2 * 86_400_000]
    labels = []
    for n, i in enumerate(range(0, len(txns) - 40, 7)):
        t = txns[i]
        # every other label lands on a later payment's millisecond: applied after it
        reported = txns[i + 1 + n % 30].ts_ms if n % 2 else t.ts_ms + delays[n % len(delays)]
        labels.append(FraudLabel(t.txn_id, reported, t.card_id, t.merchant_id, t.terminal_id))
    last = txns[-1]
    labels.append(FraudLabel(last.txn_id, last.ts_ms + 1, last.card_id, last.merchant_id,
                             last.terminal_id))  # fmt: skip
    docs = [
        {"txn_id": x.txn_id, "label": "fraud", "reported_at": format_event_time(x.reported_ms),
         "card_id": x.card_id, "merchant_id": x.merchant_id, "terminal_id": x.terminal_id}
        for x in labels
    ]  # fmt: skip
    docs.append({**docs[1], "txn_id": txns[3].txn_id, "label": "legit"})
    docs.append({k: v for k, v in docs[2].items() if k != "terminal_id"} | {"txn_id": "x"})
    return LabelledStream(txns, labels, docs)
