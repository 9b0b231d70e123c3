"""Where the local stack keeps everything: one absolute folder tree under ``settings.home``.

Paths are made absolute once, here, because they end up in service command lines, and the
stack recognises its own processes by finding the home path in those command lines.

>>> from fraudguard.config import Settings
>>> paths = StackPaths.from_settings(Settings(home="/srv/fg"))
>>> str(paths.kafka_log), str(paths.redis_pidfile)
('/srv/fg/logs/kafka.log', '/srv/fg/run/redis.pid')
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from fraudguard.config import Settings


@dataclass(frozen=True)
class StackPaths:
    home: Path

    @classmethod
    def from_settings(cls, settings: Settings) -> StackPaths:
        return cls(Path(os.path.abspath(settings.home)))

    @property
    def lib(self) -> Path:
        return self.home / "lib"

    @property
    def logs(self) -> Path:
        return self.home / "logs"

    @property
    def run(self) -> Path:
        return self.home / "run"

    @property
    def kafka_dir(self) -> Path:
        return self.home / "kafka"

    @property
    def kafka_data(self) -> Path:
        return self.kafka_dir / "data"

    @property
    def kafka_log(self) -> Path:
        return self.logs / "kafka.log"

    @property
    def kafka_out(self) -> Path:
        """The JVM's own stdout and stderr (crashes before logging starts end up here)."""
        return self.logs / "kafka.out"

    @property
    def kafka_pidfile(self) -> Path:
        return self.run / "kafka.pid"

    @property
    def redis_dir(self) -> Path:
        return self.home / "redis"

    @property
    def redis_log(self) -> Path:
        return self.logs / "redis.log"

    @property
    def redis_pidfile(self) -> Path:
        return self.run / "redis.pid"

    @property
    def postgres_dir(self) -> Path:
        """The cluster's data folder, owned by the ``postgres`` user when the stack runs as root
        (so it is not made by :meth:`make_dirs`)."""
        return self.home / "postgres"

    @property
    def postgres_log(self) -> Path:
        return self.logs / "postgres.log"

    @property
    def postgres_pidfile(self) -> Path:
        return self.run / "postgres.pid"

    @property
    def postgres_lock(self) -> Path:
        """Held while PostgreSQL starts or stops: ``stack up`` need not wait for it."""
        return self.run / "postgres.lock"

    @property
    def lock(self) -> Path:
        return self.run / "stack.lock"

    def make_dirs(self) -> None:
        for folder in (self.lib, self.logs, self.run, self.kafka_data, self.redis_dir):
            folder.mkdir(parents=True, exist_ok=True)
