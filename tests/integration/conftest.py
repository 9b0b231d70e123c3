"""Helpers the job tests share: live payments with the decisions they get (the small registered
model they score with is in the root conftest)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any, Literal

import orjson
import pytest

from fraudguard.config import Settings
from fraudguard.generator import GeneratorConfig, PaymentStream, produce_to_kafka
from fraudguard.streams.kafka import assigned_consumer


class LiveDecisions:
    """Payments stamped now, and every decision of the test's job read as it arrives."""

    def __init__(
        self,
        settings: Settings,
        isolation: Literal["read_committed", "read_uncommitted"] = "read_committed",
    ) -> None:
        self.settings = settings
        self.consumer = assigned_consumer(settings, settings.topics.decisions.name, isolation)
        self.records: list[dict[str, Any]] = []

    def pay(self, count: int) -> None:
        config = GeneratorConfig(seed=int(time.time()), cards=1_000, merchants=80, days=4.0,
                                 txn_id_prefix=f"r{uuid.uuid4().hex[:6]}-")  # fmt: skip
        stream = PaymentStream(config.ending_at(int(time.time() * 1000)))
        report = produce_to_kafka(self.settings, stream, limit=count, labels=False)
        assert report.transactions == count

    def read(self, timeout: float = 0.5) -> list[dict[str, Any]]:
        new = [
            orjson.loads(msg.value())
            for msg in self.consumer.consume(num_messages=10_000, timeout=timeout)
            if not msg.error()
        ]
        self.records.extend(new)
        return new

    def wait_for(self, count: int, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while len(self.records) < count and time.monotonic() < deadline:
            self.read()
        assert len(self.records) >= count, f"{len(self.records)} of {count} decisions"

    def pay_until(
        self, accept: Callable[[dict[str, Any]], bool], timeout_s: float = 30, batch: int = 20
    ) -> tuple[float, dict[str, Any]]:
        """Send payments until a decision read from now on satisfies ``accept``; seconds it
        took, and that decision."""
        started = time.monotonic()
        while time.monotonic() - started < timeout_s:
            self.pay(batch)
            for record in self.read(timeout=1.0):
                if accept(record):
                    return time.monotonic() - started, record
        raise AssertionError(f"no such decision within {timeout_s} s")

    def close(self) -> None:
        self.consumer.close()


@pytest.fixture
def live_decisions() -> type[LiveDecisions]:
    return LiveDecisions
