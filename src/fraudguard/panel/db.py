"""The panel's database engine: SQLite under the stack home by default, PostgreSQL by URL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url

from fraudguard.errors import ConfigError
from fraudguard.panel.tables import APPEND_ONLY_POSTGRESQL, APPEND_ONLY_SQLITE, metadata


def open_database(url: str) -> Engine:
    """An engine on ``url`` with the schema in place (created when missing, grown when older).

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
        grow_schema(conn)
        for statement in triggers:
            conn.execute(text(statement))
    return engine


def grow_schema(conn: Connection) -> list[str]:
    """Add to the tables that exist the columns and indexes this version defines and they lack
    (``create_all`` creates only missing tables); the ``table.column`` names added.

    A new column must be nullable: the rows already stored have no value for it.
    """
    found = inspect(conn)
    added = []
    for table in metadata.sorted_tables:
        have = {column["name"] for column in found.get_columns(table.name)}
        for column in table.columns:
            if column.name in have:
                continue
            if not column.nullable:
                raise ConfigError(
                    f"the panel's database lacks {table.name}.{column.name}, which this "
                    "version needs on every row; start from a new database"
                )
            quote = conn.dialect.identifier_preparer.quote
            kind = column.type.compile(dialect=conn.dialect)
            conn.execute(
                text(f"ALTER TABLE {quote(table.name)} ADD COLUMN {quote(column.name)} {kind}")
            )
            added.append(f"{table.name}.{column.name}")
        for index in table.indexes:
            index.create(conn, checkfirst=True)
    return added


def _sqlite_pragmas(connection, _record) -> None:  # type: ignore[no-untyped-def]
    # WAL lets the web server read while the ingester writes; NORMAL sync is durable in WAL.
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
