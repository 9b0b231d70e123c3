"""A replay's namespace: topics, a job, feature-store keys and checkpoints of its own, so a
replay of history never touches production's topics, offsets, state or job.

>>> ns = namespaced(Settings(), "june")
>>> ns.topics.transactions.name, ns.topics.decisions.name, ns.flink.job_name
('june.transactions', 'june.decisions', 'fraudguard-replay-june')
>>> ns.redis.feature_prefix, ns.validation.clock, ns.topics.transactions.retention_ms
('fg:replay:june', 'event', -1)
>>> namespaced(Settings(), "Prod Copy")
Traceback (most recent call last):
...
fraudguard.errors.ConfigError: namespace 'Prod Copy': use 1 to 32 lowercase letters, digits, \
'-' or '_', starting with a letter
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field

from fraudguard.config import Settings, TopicsSettings
from fraudguard.errors import ConfigError

NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")
JOB_PREFIX = "fraudguard-replay-"


def check_name(name: str) -> str:
    if not NAME.fullmatch(name):
        raise ConfigError(f"namespace {name!r}: use 1 to 32 lowercase letters, digits, '-' or "
                          "'_', starting with a letter")  # fmt: skip
    return name


def namespaced(settings: Settings, name: str) -> Settings:
    """``settings`` for the replay namespace ``name``: every topic ``NAME.<topic>``, kept for
    ever (a replay's records are stamped with historical event times, which time-based
    retention would delete at once), a job, feature-store prefix and checkpoint folder of its
    own, a metrics port of its own (any free one, beside production's job), and the job's
    clock checks on the replay's event time."""
    check_name(name)
    topics = TopicsSettings(**{
        f: spec.model_copy(update={"name": f"{name}.{spec.name}",
                                   "retention_ms": -1 if spec.cleanup_policy == "delete"
                                   else spec.retention_ms})  # fmt: skip
        for f, spec in ((f, getattr(settings.topics, f)) for f in TopicsSettings.model_fields)
    })  # fmt: skip
    return settings.model_copy(update={
        "topics": topics,
        "flink": settings.flink.model_copy(update={"job_name": f"{JOB_PREFIX}{name}"}),
        "redis": settings.redis.model_copy(update={"feature_prefix": f"fg:replay:{name}"}),
        "validation": settings.validation.model_copy(update={"clock": "event"}),
        "metrics": settings.metrics.model_copy(update={"port": 0}),
    })  # fmt: skip


@dataclass
class Teardown:
    topics_deleted: list[str] = field(default_factory=list)
    topics_failed: dict[str, str] = field(default_factory=dict)
    redis_keys: int = 0
    job_stopped: bool = False

    def describe(self) -> str:
        failed = f"; NOT deleted: {self.topics_failed}" if self.topics_failed else ""
        return (
            f"{len(self.topics_deleted)} topics deleted, {self.redis_keys:,} feature-store "
            f"keys deleted, job {'stopped' if self.job_stopped else 'not running'}{failed}"
        )


def tear_down(settings: Settings, name: str) -> Teardown:
    """Stop the namespace's job and delete its topics, feature-store keys, checkpoints and job
    folder. Production's are never named here: every name carries the namespace."""
    from fraudguard.features.online_store import OnlineFeatureReader
    from fraudguard.flink.environment import checkpoint_root
    from fraudguard.ops.jobrunner import JobRunner
    from fraudguard.stack.topics import delete_topics, make_admin, topic_partitions

    ns = namespaced(settings, name)
    done = Teardown()
    runner = JobRunner(ns)
    if runner.pid() is not None:
        done.job_stopped = runner.stop()
    existing = topic_partitions(make_admin(ns))
    mine = [t.name for t in ns.topics.all() if t.name in existing]
    done.topics_failed = delete_topics(ns, mine)
    done.topics_deleted = [t for t in mine if t not in done.topics_failed]
    done.redis_keys = OnlineFeatureReader.from_settings(ns).clear()
    shutil.rmtree(ns.job_dir, ignore_errors=True)
    shutil.rmtree(checkpoint_root(ns), ignore_errors=True)
    return done


def namespaces(settings: Settings) -> dict[str, list[str]]:
    """The replay namespaces on the broker: each with its topics."""
    from fraudguard.stack.topics import make_admin, topic_partitions

    found: dict[str, list[str]] = {}
    suffixes = {f".{t.name}" for t in settings.topics.all()}
    for topic in topic_partitions(make_admin(settings)):
        head, dot, _ = topic.partition(".")
        if dot and NAME.fullmatch(head) and topic[len(head) :] in suffixes:
            found.setdefault(head, []).append(topic)
    return dict(sorted(found.items()))
