"""What ``fraudguard stack status`` reports: plain data with a readable text form.

>>> status = StackStatus(
...     home=Path("/srv/fg"),
...     services=[
...         ServiceStatus("kafka", True, 4242, "127.0.0.1", 9092),
...         ServiceStatus("redis", False, None, "127.0.0.1", 6379),
...     ],
...     topics={"transactions": 4, "control": 1},
... )
>>> print(status)
FraudGuard local stack in /srv/fg
  kafka  running  pid 4242   127.0.0.1:9092
  redis  stopped             127.0.0.1:6379
  topics (partitions): control 1, transactions 4
>>> status.running
False
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple


class ServiceStatus(NamedTuple):
    name: str
    running: bool
    pid: int | None
    host: str
    port: int

    def __str__(self) -> str:
        state = "running" if self.running else "stopped"
        pid = f"pid {self.pid}" if self.pid is not None else ""
        return f"{self.name:<6} {state:<8} {pid:<10} {self.host}:{self.port}"


class Stopped(NamedTuple):
    """A process ``down`` stopped; ``forced`` when it ignored SIGTERM and was killed."""

    name: str
    pid: int
    forced: bool

    def __str__(self) -> str:
        how = "killed" if self.forced else "stopped"
        return f"{how} {self.name} (pid {self.pid})"


@dataclass(frozen=True)
class StackStatus:
    home: Path
    services: list[ServiceStatus]
    topics: dict[str, int] | None = None
    """Topic name to partition count; None when Kafka is down or did not answer."""
    problems: list[str] = field(default_factory=list)

    @property
    def running(self) -> bool:
        """True when every service runs."""
        return all(service.running for service in self.services)

    def service(self, name: str) -> ServiceStatus:
        return next(service for service in self.services if service.name == name)

    def __str__(self) -> str:
        lines = [f"FraudGuard local stack in {self.home}"]
        lines += [f"  {service}".rstrip() for service in self.services]
        if self.topics is not None:
            listed = ", ".join(f"{name} {count}" for name, count in sorted(self.topics.items()))
            lines.append(f"  topics (partitions): {listed or 'none'}")
        lines += [f"  problem: {problem}" for problem in self.problems]
        return "\n".join(lines)
