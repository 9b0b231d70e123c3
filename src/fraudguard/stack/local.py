"""``LocalStack``: the project-owned Kafka broker and Redis server, started and stopped as one.

``up`` is idempotent, so tests and commands call it without asking whether the stack already
runs; ``down`` leaves no process of this stack home behind, including strays whose pidfiles
were lost. A lock file serialises concurrent ``up``/``down`` calls on the same home.
"""

from __future__ import annotations

import logging
from pathlib import Path

from confluent_kafka import KafkaException

from fraudguard.config import Settings
from fraudguard.stack import health, maven
from fraudguard.stack.kafka import KafkaBroker
from fraudguard.stack.layout import StackPaths
from fraudguard.stack.postgres import PostgresServer
from fraudguard.stack.process import (
    cmdline,
    file_lock,
    find_pids,
    home_needle,
    terminate,
    works_in_deleted_folder,
)
from fraudguard.stack.redis import RedisServer
from fraudguard.stack.status import ServiceStatus, StackStatus, Stopped
from fraudguard.stack.topics import create_topics, make_admin, topic_partitions

log = logging.getLogger(__name__)


class LocalStack:
    """The local services of one ``settings.home``, on the ports ``settings`` names.

    >>> stack = LocalStack(Settings(home="/nonexistent/fraudguard-doctest"))
    >>> stack.status().running
    False
    """

    def __init__(
        self, settings: Settings, start_timeout_s: float = 120.0, stop_timeout_s: float = 60.0
    ) -> None:
        self.settings = settings
        self.paths = StackPaths.from_settings(settings)
        self.kafka = KafkaBroker(settings, self.paths)
        self.redis = RedisServer(settings, self.paths)
        self.postgres = PostgresServer(settings, self.paths)  # stopped by down, not started by up
        self.start_timeout_s = start_timeout_s
        self.stop_timeout_s = stop_timeout_s

    def up(self) -> StackStatus:
        """Start whatever is not running, create the topics, and return the resulting status.

        Order: preflight checks, the broker's jars (Maven, only when missing or its pom
        changed), Kafka, Redis, topics. A service that already runs is only checked for
        readiness. The project's own Java is not built here (``make jvm``, :mod:`fraudguard.jvm`).
        """
        with file_lock(self.paths.lock):
            self.paths.make_dirs()
            self._retire_orphans()
            kafka_pid, redis_pid = self.kafka.pid(), self.redis.pid()
            # A service already running on other ports would never answer on the new ones.
            if kafka_pid is not None:
                self.kafka.check_config()
            if redis_pid is not None:
                self.redis.check_config(redis_pid)
            broker_jars = maven.broker_jars(self.settings, self.paths)
            missing = maven.needs_resolve(broker_jars)
            tools = health.preflight(
                self.settings,
                self.paths.home,
                {"kafka": kafka_pid, "redis": redis_pid},
                need_maven=missing,
            )
            if missing:
                maven.resolve(broker_jars, health.check_maven())
            if kafka_pid is None:
                kafka_pid = self.kafka.start(tools.java)
            self.kafka.wait_ready(kafka_pid, self.start_timeout_s)
            if redis_pid is None:
                redis_pid = self.redis.start(tools.redis_server)
            self.redis.wait_ready(redis_pid, self.start_timeout_s)
            create_topics(self.settings)
        return self.status()

    def _retire_orphans(self) -> None:
        """Stop services still running from a home that was deleted and made again (a fresh
        clone at the same path): they look like ours, but their data folder is gone, and Redis
        refuses every write once it cannot save."""
        orphans = [
            pid for pid in (self.kafka.pid(), self.redis.pid())
            if pid is not None and works_in_deleted_folder(pid)
        ]  # fmt: skip
        if orphans:
            log.warning("stopping %s: they run in a deleted copy of %s", orphans, self.paths.home)
            terminate(orphans, self.stop_timeout_s)

    def down(self) -> list[Stopped]:
        """Stop every process whose command line names the home, then PostgreSQL (when
        ``stack postgres up`` started it), Redis and Kafka.

        Clients of the stack started from the home (the scoring job, a stuck Maven or storage
        tool) go first, while Kafka still runs, so they can shut down cleanly; a final sweep
        catches anything left. Safe to call when nothing runs; returns what it stopped.
        """
        stopped: list[Stopped] = []
        with file_lock(self.paths.lock):
            services = {self.kafka.pid(), self.redis.pid(), self.postgres.pid()}
            stopped += self._stop_strays(exclude=services)
            for service in (self.postgres, self.redis, self.kafka):
                done = service.stop(self.stop_timeout_s)
                if done is not None:
                    stopped.append(done)
            stopped += self._stop_strays(exclude=set())
        return stopped

    def _stop_strays(self, exclude: set[int | None]) -> list[Stopped]:
        strays = [pid for pid in find_pids(home_needle(self.paths.home)) if pid not in exclude]
        if not strays:
            return []
        names = {pid: Path((cmdline(pid) or "?").split(" ")[0]).name for pid in strays}
        log.info("stopping other processes of %s: %s", self.paths.home, names)
        forced = terminate(strays, self.stop_timeout_s)
        return [Stopped(names[pid], pid, forced[pid]) for pid in strays]

    def status(self) -> StackStatus:
        """Which services run (pid, port) and, when Kafka answers, its topics."""
        kafka_pid, redis_pid = self.kafka.pid(), self.redis.pid()
        kafka, redis = self.settings.kafka, self.settings.redis
        services = [
            ServiceStatus(
                "kafka", kafka_pid is not None, kafka_pid, kafka.host, kafka.bootstrap_port
            ),
            ServiceStatus("redis", redis_pid is not None, redis_pid, redis.host, redis.port),
        ]
        topics: dict[str, int] | None = None
        problems: list[str] = []
        if kafka_pid is not None:
            try:
                topics = topic_partitions(make_admin(self.settings), timeout_s=5)
            except KafkaException as exc:
                problems.append(f"Kafka runs but does not answer: {exc}")
        return StackStatus(self.paths.home, services, topics, problems)
