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
