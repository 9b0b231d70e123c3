"""The project-owned local stack: a KRaft Kafka broker and a Redis server under ``settings.home``
(and, on request, PostgreSQL for the panel).

Three names are the public face; the modules behind them each hold one concern (jars, the
broker, Redis, PostgreSQL, topics, processes, ports, preflight checks).
"""

from fraudguard.stack.local import LocalStack
from fraudguard.stack.status import StackStatus
from fraudguard.stack.topics import create_topics, delete_topics

__all__ = ["LocalStack", "StackStatus", "create_topics", "delete_topics"]
