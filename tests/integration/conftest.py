"""Helpers the job tests share: live payments with the decisions they get (the small registered
model they score with is in the root conftest); and the local PostgreSQL for the panel's store."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Literal

import orjson
import pytest

from fraudguard.config import Settings
from fraudguard.generator import GeneratorConfig, PaymentStream, produce_to_kafka
from fraudguard.stack.postgres import PostgresServer
from fraudguard.streams.kafka import assigned_consumer

if TYPE_CHECKING:
    from sqlalchemy import Engine


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


@pytest.fixture(scope="session")
def postgres_server() -> PostgresServer:
    """The local stack's PostgreSQL, started if it is not running (``stack_settings`` does not
    start it: only the panel's store needs it).

    Left running at the end, like Kafka and Redis: another session on the same home may be
    using it, and the next one starts at once; ``fraudguard stack down`` stops it.
    """
    server = PostgresServer.from_settings(Settings.from_env(os.environ))
    server.up()
    return server


def _fresh_database(server: PostgresServer) -> Iterator[str]:
    name = f"fraudguard_test_{uuid.uuid4().hex[:12]}"
    yield server.create_database(name)
    server.drop_database(name)


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """The URL of an empty database made for this session, dropped at its end."""
    yield from _fresh_database(postgres_server)


@pytest.fixture
def postgres_database_url(postgres_server: PostgresServer) -> Iterator[str]:
    """The URL of an empty database made for this test, dropped afterwards."""
    yield from _fresh_database(postgres_server)


@pytest.fixture
def postgres_engine(postgres_database_url: str) -> Iterator[Engine]:
    """An engine on a database of the test's own, with the panel's schema."""
    from fraudguard.panel.db import open_database

    engine = open_database(postgres_database_url)
    yield engine
    engine.dispose()
