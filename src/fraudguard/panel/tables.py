"""The panel's database: the decision store it ingests from Kafka, and what Kafka cannot hold
(users, sessions, login attempts, threshold drafts, the audit log).

SQLAlchemy Core tables, so the same schema runs on SQLite (the embedded default) and PostgreSQL.
Decisions and labels are views rebuilt from Kafka: ``ingest_offsets`` holds where ingestion
stands, written in the same transaction as the rows.

The schema only grows: a column added to a table that already exists must be nullable, and
:func:`fraudguard.panel.db.open_database` adds it (and any new index) to a database created
before it, so an upgraded panel keeps its data.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

ID = 64
"""Longest id the wire format accepts (``fraudguard.wire.transactions.MAX_ID_LENGTH``)."""

decisions = Table(
    "decisions",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("txn_id", String(ID), nullable=False, unique=True),
    Column("card_id", String(ID), nullable=False),
    Column("merchant_id", String(ID), nullable=False, default=""),
    Column("terminal_id", String(ID), nullable=True, default=""),
    # Null in rows stored before the column was.
    Column("event_ms", BigInteger, nullable=False),
    Column("decided_at_ms", BigInteger, nullable=False),
    Column("amount", Float, nullable=False, default=0.0),
    Column("currency", String(3), nullable=False, default=""),
    Column("amount_eur", Float, nullable=False),
    Column("mcc", String(4), nullable=False, default=""),
    Column("channel", String(16), nullable=False, default=""),
    Column("country", String(2), nullable=False, default=""),
    Column("score", Float, nullable=False),
    Column("base_score", Float, nullable=False),
    Column("decision", String(8), nullable=False),
    Column("tier", String(ID), nullable=False),
    Column("model_version", String(ID), nullable=False),
    Column("reranker_version", String(ID), nullable=False),
    Column("threshold_version", String(ID), nullable=False),
    Column("feature_version", String(ID), nullable=False),
    Column("explored", Boolean, nullable=False),
    Column("propensity", Float, nullable=False),
    Column("degraded", Boolean, nullable=False),
    Column("late", Boolean, nullable=False),
    Column("features", LargeBinary, nullable=True),
    # The logged feature values as little-endian float32 in the registry's order of
    # ``feature_version`` (what the model saw: it scores float32).
    Column("challenger_version", String(ID), nullable=True),
    Column("challenger_score", Float, nullable=True),
    # The shadow challenger's version and score, None when none scored (records before the
    # challenger existed, or a challenger that could not score).
)
Index("decisions_event_ms", decisions.c.event_ms)
Index("decisions_decided_at", decisions.c.decided_at_ms)
Index("decisions_card", decisions.c.card_id, decisions.c.event_ms)
Index("decisions_threshold_version", decisions.c.threshold_version, decisions.c.decided_at_ms)
Index("decisions_challenger", decisions.c.challenger_version, decisions.c.model_version)

labels = Table(
    "labels",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("txn_id", String(ID), nullable=False),
    Column("label", String(8), nullable=False),
    Column("reported_at_ms", BigInteger, nullable=False),
    Column("source", String(32), nullable=False, default=""),
    Column("topic", String(255), nullable=False),
    Column("partition", Integer, nullable=False),
    Column("offset", BigInteger, nullable=False),
    Column("provenance", Text, nullable=True),
    # The rest of the label record as JSON (who decided, under which guideline).
)
Index("labels_txn", labels.c.txn_id, labels.c.seq)
Index("labels_position", labels.c.topic, labels.c.partition, labels.c.offset, unique=True)
# Covers the labels per day and source of the Models page: a range scan, never the table.
Index("labels_reported", labels.c.reported_at_ms, labels.c.source, labels.c.label)

ingest_offsets = Table(
    "ingest_offsets",
    metadata,
    Column("topic", String(255), primary_key=True),
    Column("partition", Integer, primary_key=True),
    Column("next_offset", BigInteger, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(ID), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("created_at_ms", BigInteger, nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
)

sessions = Table(
    "sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    # SHA-256 of the cookie's token: a stolen database does not hand out live sessions.
    Column("user_id", Integer, nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at_ms", BigInteger, nullable=False),
    Column("expires_at_ms", BigInteger, nullable=False),
    Column("revoked", Boolean, nullable=False, default=False),
)

login_attempts = Table(
    "login_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(ID), nullable=False),
    Column("client", String(64), nullable=False),
    Column("at_ms", BigInteger, nullable=False),
    Column("ok", Boolean, nullable=False),
)
Index("login_attempts_at", login_attempts.c.at_ms)

threshold_drafts = Table(
    "threshold_drafts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("version", String(ID), nullable=False),
    Column("yaml", Text, nullable=False),
    Column("author", String(ID), nullable=False),
    Column("status", String(16), nullable=False),
    # draft, proposed, published, rejected.
    Column("reason", Text, nullable=False, default=""),
    Column("rollback_to", String(ID), nullable=True),
    # Set when the proposal is to publish an earlier version again.
    Column("created_at_ms", BigInteger, nullable=False),
    Column("updated_at_ms", BigInteger, nullable=False),
    Column("proposed_by", String(ID), nullable=True),
    Column("proposed_at_ms", BigInteger, nullable=True),
    Column("decided_by", String(ID), nullable=True),
    Column("decided_at_ms", BigInteger, nullable=True),
    Column("decision_note", Text, nullable=True),
    Column("published_offset", BigInteger, nullable=True),
)

audit = Table(
    "audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at_ms", BigInteger, nullable=False),
    Column("actor", String(ID), nullable=False),
    Column("role", String(16), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", String(255), nullable=False, default=""),
    Column("before", Text, nullable=True),
    Column("after", Text, nullable=True),
    Column("client", String(64), nullable=False, default=""),
)
Index("audit_at", audit.c.at_ms)

APPEND_ONLY_SQLITE = [
    "CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit "
    "BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit "
    "BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END",
]
APPEND_ONLY_POSTGRESQL = [
    "CREATE OR REPLACE FUNCTION fraudguard_audit_append_only() RETURNS trigger AS $$ "
    "BEGIN RAISE EXCEPTION 'audit rows are append-only'; END $$ LANGUAGE plpgsql",
    "CREATE OR REPLACE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit "
    "FOR EACH ROW EXECUTE FUNCTION fraudguard_audit_append_only()",
]
"""The database itself refuses to change an audit row, whatever code asks it to."""

ingest_rejects = Table(
    "ingest_rejects",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("topic", String(255), nullable=False),
    Column("partition", Integer, nullable=False),
    Column("offset", BigInteger, nullable=False),
    Column("reason", String(64), nullable=False),
    Column("detail", Text, nullable=False),
    Column("at_ms", BigInteger, nullable=False),
)
Index("ingest_rejects_position", ingest_rejects.c.topic, ingest_rejects.c.partition,
      ingest_rejects.c.offset, unique=True)  # fmt: skip

cases = Table(
    "cases",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("txn_id", String(ID), nullable=False, unique=True),
    Column("card_id", String(ID), nullable=False),
    Column("event_ms", BigInteger, nullable=False),
    Column("opened_at_ms", BigInteger, nullable=False),
    # When the job decided: the SLA clock starts then, not when the panel ingested it.
    Column("sla_due_ms", BigInteger, nullable=False),
    Column("score", Float, nullable=False),
    Column("amount_eur", Float, nullable=False),
    Column("tier", String(ID), nullable=False),
    Column("mcc", String(4), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("country", String(2), nullable=False),
    Column("priority", Float, nullable=False),
    Column("status", String(16), nullable=False),
    # open, escalated (waiting for a lead), closed.
    Column("assignee", String(ID), nullable=True),
    Column("first_verdict", String(16), nullable=True),
    # The first analyst's verdict (on an escalated case, what they proposed).
    Column("first_by", String(ID), nullable=True),
    Column("final_verdict", String(8), nullable=True),
    Column("final_by", String(ID), nullable=True),
    Column("closed_at_ms", BigInteger, nullable=True),
    Column("label_id", String(64), nullable=True),
    # The newest label this case gave (a correction supersedes the one before).
    Column("updated_at_ms", BigInteger, nullable=False),
    Column("merchant_id", String(ID), nullable=True, default=""),
    Column("terminal_id", String(ID), nullable=True, default=""),
    # The payment's entities, named by the case's labels; the case outlives its decision row
    # (retention). Null in cases opened before the columns were.
)
Index("cases_queue", cases.c.status, cases.c.priority)
Index("cases_assignee", cases.c.assignee, cases.c.status)

label_outbox = Table(
    "label_outbox",
    metadata,
    # Labels the panel gave, written here in the same transaction as the verdict, then sent
    # to the labels topic exactly once by the publisher (fraudguard.panel.labels).
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("label_id", String(64), nullable=False, unique=True),
    Column("txn_id", String(ID), nullable=False),
    Column("record", Text, nullable=False),
    Column("created_at_ms", BigInteger, nullable=False),
    Column("partition", Integer, nullable=True),
    Column("offset", BigInteger, nullable=True),
)
Index("label_outbox_pending", label_outbox.c.offset, label_outbox.c.id)
