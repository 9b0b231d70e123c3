"""Fixtures of the unit tests: stand-ins for what the integration tests have for real."""

from __future__ import annotations

from typing import Any

import pytest

from fraudguard.config import Settings
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
