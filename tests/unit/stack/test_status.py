"""The readable text of status and of what ``down`` stopped."""

from __future__ import annotations

from pathlib import Path

from fraudguard.stack.status import ServiceStatus, StackStatus, Stopped


def test_status_text_names_pids_ports_topics_and_problems() -> None:
    status = StackStatus(
        Path("/srv/fg"),
        [
            ServiceStatus("kafka", True, 11, "127.0.0.1", 9092),
            ServiceStatus("redis", True, 12, "127.0.0.1", 6379),
        ],
        topics={},
        problems=["Kafka runs but does not answer"],
    )
    text = str(status)
    assert "kafka  running  pid 11" in text and "127.0.0.1:6379" in text
    assert "topics (partitions): none" in text
    assert "problem: Kafka runs but does not answer" in text
    assert status.running and status.service("redis").pid == 12


def test_stopped_text() -> None:
    assert str(Stopped("kafka", 7, False)) == "stopped kafka (pid 7)"
    assert str(Stopped("java", 8, True)) == "killed java (pid 8)"
