"""Helpers the job tests share: live payments with the decisions they get (the small registered
model they score with is in the root conftest); a backlog of transactions and the checks of the
crash tests (every decision once, redone decisions identical); the local PostgreSQL for the
panel's store; and the panel itself, started as its own process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import orjson
import pytest

from fraudguard.config import Settings
from fraudguard.generator import GeneratorConfig, PaymentStream, produce_to_kafka
from fraudguard.stack.health import debian_program
from fraudguard.stack.postgres import PostgresServer
from fraudguard.stack.process import tail
from fraudguard.streams.kafka import assigned_consumer, make_producer, read_topic
from fraudguard.streams.tally import DecisionTally
from fraudguard.wire.transactions import format_event_time

if TYPE_CHECKING:
    from playwright.sync_api import Browser
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


class Backlog:
    """Transactions sent before the job reads them, and the checks of a crash test on the
    decisions they get. A fixture hands out the class: ``backlog.produce(settings, ...)``."""

    @staticmethod
    def produce(settings: Settings, count: int, prefix: str) -> list[str]:
        """``count`` transactions of 997 cards and 50 merchants, event times 5 ms apart and
        ending now, in order; their ids."""
        producer = make_producer(settings)
        now = int(time.time() * 1000)
        ids = []
        for i in range(count):
            txn_id = f"{prefix}{i:07d}"
            doc = {
                "txn_id": txn_id,
                "event_time": format_event_time(ts_ms := now - (count - i) * 5),
                "card_id": f"card{i % 997}",
                "customer_id": f"cust{i % 997}",
                "merchant_id": f"m{i % 50}",
                "terminal_id": f"m{i % 50}-t1",
                "amount": round(5 + (i * 37) % 2500 + 0.99, 2),
                "currency": "EUR",
                "mcc": "5411",
                "country": "FR",
                "channel": "online" if i % 3 else "card_present",
                "device_id": f"d{i % 997}" if i % 3 else None,
            }
            topic = settings.topics.transactions.name
            # The record timestamp is the event time: the job's watermarks come from it.
            producer.produce(topic, orjson.dumps(doc), key=doc["card_id"], timestamp=ts_ms)
            ids.append(txn_id)
            if i % 5000 == 0:
                producer.poll(0)
        producer.flush(30)
        return ids

    @staticmethod
    def wait_for(tally: DecisionTally, expected: int, timeout_s: float) -> None:
        """Read until ``expected`` transactions are decided or ``timeout_s`` passed."""
        deadline = time.monotonic() + timeout_s
        while tally.decided < expected and time.monotonic() < deadline:
            tally.poll(0.5)
        # Keep reading a moment longer: a duplicate would arrive after the last first-decision.
        settle = time.monotonic() + 3
        while time.monotonic() < settle:
            tally.poll(0.5)

    @staticmethod
    def assert_redone_identically(settings: Settings, topic: str) -> int:
        """The fast answer (docs/operations.md): a payment system reading uncommitted takes the
        first decision of each txn_id. That holds only if the decisions a crash aborted are the
        ones the restored job wrote again, field for field but the wall-clock time of deciding.
        Returns how many were written again (a crash test needs some)."""

        def written(
            isolation: Literal["read_committed", "read_uncommitted"],
        ) -> list[dict[str, Any]]:
            records = [orjson.loads(m.value()) for m in read_topic(settings, topic, isolation)]
            for record in records:
                del record["decided_at_ms"]
            return records

        final = {record["txn_id"]: record for record in written("read_committed")}
        first: dict[str, dict[str, Any]] = {}
        redone = 0
        for record in written("read_uncommitted"):
            if record["txn_id"] in first:
                redone += 1
                before = first[record["txn_id"]]
                changed = sorted(
                    k for k in record.keys() | before.keys() if record.get(k) != before.get(k)
                )
                txn_id = record["txn_id"]
                assert not changed, f"{txn_id} decided differently after the crash: {changed}"
            else:
                first[record["txn_id"]] = record
        assert redone > 0, "the crash aborted no decision: nothing was compared"
        assert first == final
        return redone


@pytest.fixture
def backlog() -> type[Backlog]:
    return Backlog


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


class PanelServer:
    """``python -m fraudguard panel`` (web server and ingester) on ``settings``' topics with a
    SQLite store of its own in ``folder``: the panel as an operator starts it, configured only by
    ``FRAUDGUARD_*`` variables, ``panel`` as ``FRAUDGUARD_PANEL__<NAME>``.

    A context manager: entering adds ``users`` (name: (role, password)) with the CLI, starts the
    panel and waits until it answers; leaving stops it, and prints its log (pytest shows it
    when the test failed).
    """

    def __init__(
        self, settings: Settings, folder: Path, users: dict[str, tuple[str, str]], **panel: str
    ) -> None:
        self.users = users
        self.database_url = f"sqlite:///{folder / 'panel.db'}"
        self.log_path = folder / "panel.log"
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = _panel_environment(settings, self.database_url, self.port, panel)
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> PanelServer:
        try:
            for name, (role, password) in self.users.items():
                self.add_user(name, role, password)
            self.start()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        print(f"panel log ({self.log_path}):\n{self.log()}")

    def add_user(self, name: str, role: str, password: str) -> None:
        """``fraudguard panel user add NAME --role ROLE --password-stdin``."""
        done = subprocess.run(
            [sys.executable, "-m", "fraudguard", "panel", "user", "add", name, "--role", role,
             "--password-stdin"],
            input=f"{password}\n".encode(), env=self.env, capture_output=True, timeout=60,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr.decode()[-2000:]

    def start(self, timeout_s: float = 60.0) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "fraudguard", "panel"], env=self.env, stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"the panel exited:\n{self.log()}"
            try:
                with urllib.request.urlopen(f"{self.url}/login", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"the panel did not answer in {timeout_s:.0f} s:\n{self.log()}")

    def log(self, lines: int = 40) -> str:
        return tail(self.log_path, lines)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(15)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _test_environment(settings: Settings) -> dict[str, str]:
    """This process's environment (the suite honours ``FRAUDGUARD_*`` as the CLI does) with the
    topics, home, model registry, feature-store prefix and job of the test's ``settings``: what
    a FraudGuard command started by the test needs to work on the test's own stack."""
    env = dict(os.environ)
    env["FRAUDGUARD_HOME"] = str(settings.home)
    env["FRAUDGUARD_FLINK__JOB_NAME"] = settings.flink.job_name
    if settings.models_root is not None:
        env["FRAUDGUARD_MODELS_ROOT"] = str(settings.models_root)
    env["FRAUDGUARD_REDIS__FEATURE_PREFIX"] = settings.redis.feature_prefix
    for field in type(settings.topics).model_fields:
        spec = getattr(settings.topics, field)
        env[f"FRAUDGUARD_TOPICS__{field.upper()}__NAME"] = spec.name
        env[f"FRAUDGUARD_TOPICS__{field.upper()}__PARTITIONS"] = str(spec.partitions)
    return env


@pytest.fixture
def test_environment() -> Callable[[Settings], dict[str, str]]:
    """:func:`_test_environment`, for a test that starts a FraudGuard command."""
    return _test_environment


def _panel_environment(
    settings: Settings, database_url: str, port: int, panel: dict[str, str]
) -> dict[str, str]:
    """The test's environment (:func:`_test_environment`) with the database and port of the
    test's panel."""
    env = _test_environment(settings)
    env["FRAUDGUARD_PANEL__DATABASE_URL"] = database_url
    env["FRAUDGUARD_PANEL__HOST"] = "127.0.0.1"
    env["FRAUDGUARD_PANEL__PORT"] = str(port)
    for name, value in panel.items():
        env[f"FRAUDGUARD_PANEL__{name.upper()}"] = value
    return env


@pytest.fixture(scope="session")
def panel_server() -> type[PanelServer]:
    return PanelServer


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Without these Chromium keeps calling home, and this machine is offline: each call is a
    # refused connection in the log, many a second.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium() -> str:
    """Debian's Chromium, installed from Debian when missing (as root), like Redis."""
    return debian_program(
        "Chromium",
        "chromium",
        lambda: str(CHROMIUM) if os.access(CHROMIUM, os.X_OK) else None,
        f"install Chromium so that {CHROMIUM} exists",
    )


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium driven by Playwright (never ``playwright install``: no download)."""
    from playwright.sync_api import sync_playwright

    executable = chromium()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()
