"""The panel's database engine: SQLite under the stack home by default, PostgreSQL by URL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from fraudguard.errors import ConfigError
from fraudguard.panel.tables import APPEND_ONLY_POSTGRESQL, APPEND_ONLY_SQLITE, metadata


def open_database(url: str) -> Engine:
    """An engine on ``url`` with the schema in place (created when missing).

    >>> engine = open_database("sqlite://")
    >>> {"audit", "decisions", "cases"} <= set(engine.dialect.get_table_names(engine.connect()))
    True
    """
    try:
        parsed = make_url(url)
    except Exception as exc:  # SQLAlchemy raises ArgumentError and ValueError here
        raise ConfigError(f"panel database URL is not valid: {exc}") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        triggers = APPEND_ONLY_SQLITE
    elif backend == "postgresql":
        engine = create_engine(url, pool_pre_ping=True)
        triggers = APPEND_ONLY_POSTGRESQL
    else:
        raise ConfigError(f"panel database must be SQLite or PostgreSQL, not {backend}")
    metadata.create_all(engine)
    with engine.begin() as conn:
        for statement in triggers:
            conn.execute(text(statement))
    return engine


def _sqlite_pragmas(connection, _record) -> None:  # type: ignore[no-untyped-def]
    # WAL lets the web server read while the ingester writes; NORMAL sync is durable in WAL.
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
