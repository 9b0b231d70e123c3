"""The single-node KRaft Kafka broker: configuration, one-time storage format, start, stop.

Everything the broker writes stays under the stack home: data in ``kafka/data``, its log in
``logs/kafka.log`` (size-rolled, so a long-running stack cannot fill the disk).
"""

from __future__ import annotations

import base64
import logging
import subprocess
import time
import uuid

from confluent_kafka import KafkaException

from fraudguard.config import Settings
from fraudguard.errors import StackError
from fraudguard.stack.layout import StackPaths
from fraudguard.stack.process import (
    cmdline,
    is_running,
    service_pid,
    spawn_detached,
    tail,
    terminate,
    write_pid,
)
from fraudguard.stack.status import Stopped
from fraudguard.stack.topics import make_admin

log = logging.getLogger(__name__)

MAIN_CLASS = "kafka.Kafka"


def render_server_properties(settings: Settings, paths: StackPaths) -> str:
    """``server.properties`` of a loopback-only broker that is also its own controller."""
    kafka = settings.kafka
    host, port, controller = kafka.host, kafka.bootstrap_port, kafka.controller_port
    entries = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@{host}:{controller}",
        "listeners": f"PLAINTEXT://{host}:{port},CONTROLLER://{host}:{controller}",
        "advertised.listeners": f"PLAINTEXT://{host}:{port}",
        "controller.listener.names": "CONTROLLER",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "inter.broker.listener.name": "PLAINTEXT",
        "log.dirs": str(paths.kafka_data),
        "num.partitions": "1",
        "auto.create.topics.enable": "false",
        "offsets.topic.replication.factor": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "group.initial.rebalance.delay.ms": "0",
    }
    lines = ["# Written by `fraudguard stack up`; edits are overwritten on the next start."]
    lines += [f"{key}={value}" for key, value in entries.items()]
    return "\n".join(lines) + "\n"


def render_log4j2(paths: StackPaths, max_size: str = "20MB", keep: int = 5) -> str:
    """A log4j2 configuration writing the broker's log to one size-rolled file."""
    log_file = paths.kafka_log
    return "\n".join(
        [
            "status = warn",
            "name = fraudguard-kafka",
            "appender.file.type = RollingFile",
            "appender.file.name = file",
            f"appender.file.fileName = {log_file}",
            f"appender.file.filePattern = {log_file}.%i",
            "appender.file.layout.type = PatternLayout",
            "appender.file.layout.pattern = [%d] %p %m (%c)%n",
            "appender.file.policies.type = Policies",
            "appender.file.policies.size.type = SizeBasedTriggeringPolicy",
            f"appender.file.policies.size.size = {max_size}",
            "appender.file.strategy.type = DefaultRolloverStrategy",
            f"appender.file.strategy.max = {keep}",
            "rootLogger.level = INFO",
            "rootLogger.appenderRef.file.ref = file",
            "logger.request.name = kafka.request.logger",
            "logger.request.level = WARN",
            "",
        ]
    )


def new_cluster_id() -> str:
    """A KRaft cluster id: 16 random bytes, URL-safe base64 without padding (as Kafka's Uuid).

    >>> len(new_cluster_id())
    22
    """
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):  # Kafka refuses ids that look like a command-line flag
            return text


class KafkaBroker:
    """The broker of one stack home; its pid is trusted only if its command line matches."""

    name = "kafka"

    def __init__(self, settings: Settings, paths: StackPaths) -> None:
        self.settings = settings
        self.paths = paths
        self.properties = paths.kafka_dir / "server.properties"
        self.log4j2 = paths.kafka_dir / "log4j2.properties"

    @property
    def port(self) -> int:
        return self.settings.kafka.bootstrap_port

    def classpath(self) -> str:
        return f"{self.paths.lib / 'kafka'}/*"

    def command(self, java: str) -> list[str]:
        return [
            java,
            f"-Xmx{self.settings.kafka.heap}",
            "-XX:+UseG1GC",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={self.log4j2}",
            f"-Dkafka.logs.dir={self.paths.logs}",
            "-cp",
            self.classpath(),
            MAIN_CLASS,
            str(self.properties),
        ]

    def _ours(self, pid: int) -> bool:
        line = cmdline(pid) or ""
        return MAIN_CLASS in line and str(self.properties) in line

    def pid(self) -> int | None:
        """The running broker's pid: from the pidfile, else found by its command line."""
        return service_pid(self.paths.kafka_pidfile, self.paths.home, self._ours)

    def check_config(self) -> None:
        """Fail when the running broker was started with other settings (ports, paths)."""
        try:
            current = self.properties.read_text()
        except OSError:
            return
        if current != render_server_properties(self.settings, self.paths):
            raise StackError(
                f"Kafka runs with another configuration than the current settings "
                f"(see {self.properties}); run `fraudguard stack down` first"
            )

    def write_config(self) -> None:
        self.paths.kafka_dir.mkdir(parents=True, exist_ok=True)
        self.properties.write_text(render_server_properties(self.settings, self.paths))
        self.log4j2.write_text(render_log4j2(self.paths))

    def format_storage(self, java: str) -> None:
        """Format the data folder once; a formatted folder keeps its cluster id forever."""
        if (self.paths.kafka_data / "meta.properties").exists():
            return
        command = [java, "-cp", self.classpath(), "kafka.tools.StorageTool", "format"]
        command += ["-t", new_cluster_id(), "-c", str(self.properties)]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            output = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
            raise StackError(
                f"formatting Kafka storage in {self.paths.kafka_data} failed:\n{output}"
            )

    def start(self, java: str) -> int:
        """Start the broker detached and record its pid; the caller waits for readiness."""
        self.write_config()
        self.format_storage(java)
        log.info("starting Kafka on %s", self.settings.kafka.bootstrap_servers)
        pid = spawn_detached(self.command(java), self.paths.kafka_out, self.paths.home)
        write_pid(self.paths.kafka_pidfile, pid)
        return pid

    def wait_ready(self, pid: int, timeout_s: float = 120.0) -> None:
        """Block until the broker answers a metadata request naming at least one broker."""
        admin = make_admin(self.settings)
        deadline = time.monotonic() + timeout_s
        while True:
            # The launcher prints the pid between fork and exec, so for a moment the process
            # is still a shell: only its end, not its name, means the server died.
            if not is_running(pid):
                detail = tail(self.paths.kafka_out) or tail(self.paths.kafka_log)
                raise StackError(
                    f"Kafka exited while starting; see {self.paths.kafka_log} "
                    f"and {self.paths.kafka_out}:\n{detail}"
                )
            try:
                if admin.list_topics(timeout=2).brokers:
                    return
            except KafkaException:
                pass
            if time.monotonic() > deadline:
                raise StackError(
                    f"Kafka (pid {pid}) did not answer on {self.settings.kafka.bootstrap_servers} "
                    f"within {timeout_s:.0f} s; see {self.paths.kafka_log}"
                )
            time.sleep(0.5)

    def stop(self, timeout_s: float = 60.0) -> Stopped | None:
        """Stop the broker (controlled shutdown on SIGTERM); None when it was not running."""
        pid = self.pid()
        self.paths.kafka_pidfile.unlink(missing_ok=True)
        if pid is None:
            return None
        log.info("stopping Kafka (pid %d)", pid)
        return Stopped(self.name, pid, terminate([pid], timeout_s)[pid])
