"""The operational store: SQLAlchemy Core tables, migrated by Alembic.

SQLite by default, PostgreSQL in production; the same code and the same tests
run on both. Tables here hold definitions and state (users, write keys, import
runs, saved segments), never the event log.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ROLES = ("admin", "marketer", "analyst", "support")

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(120), nullable=False, unique=True),
    sa.Column("display_name", sa.String(200), nullable=False),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("locale", sa.String(5), nullable=False, server_default="vi"),
    sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("prefix", sa.String(16), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("last_used_at", sa.DateTime),
    sa.Column("revoked_at", sa.DateTime),
)

# One write key per source (web, app, pos, marketplace, hotline, ...), as Segment does.
sources = sa.Table(
    "sources",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("kind", sa.String(30), nullable=False),
    sa.Column("write_key", sa.String(100), nullable=False, unique=True),
    sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

import_runs = sa.Table(
    "import_runs",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("source", sa.String(100), nullable=False),
    sa.Column("file_name", sa.String(500), nullable=False),
    sa.Column("file_sha256", sa.String(64), nullable=False),
    sa.Column("format", sa.String(10), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("rows_in", sa.Integer, nullable=False, server_default="0"),
    sa.Column("accepted", sa.Integer, nullable=False, server_default="0"),
    sa.Column("duplicates", sa.Integer, nullable=False, server_default="0"),
    sa.Column("rejected", sa.Integer, nullable=False, server_default="0"),
    sa.Column("quarantine_path", sa.String(500)),
    sa.Column("started_at", sa.DateTime, nullable=False),
    sa.Column("finished_at", sa.DateTime),
)

# Saved segments (sen.segments.saved): the rule is JSON text of sen.segments.rules.
segments = sa.Table(
    "segments",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("rule", sa.Text, nullable=False),
    sa.Column("refresh_minutes", sa.Integer, nullable=False, server_default="60"),
    sa.Column("archived", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_by", sa.String(120)),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

# Audience links (sen.segments.audiences.links): a saved segment kept in sync with an
# ad platform's audience. What was sent lives in the analytical store.
audience_links = sa.Table(
    "audience_links",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("segment", sa.String(100), nullable=False),
    sa.Column("destination", sa.String(20), nullable=False),
    sa.Column("audience_id", sa.String(40), nullable=False),
    sa.Column("purpose", sa.String(20), nullable=False, server_default="target"),
    sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_by", sa.String(120)),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(url: str):  # noqa: ANN201 - alembic's Config
    """An Alembic configuration pointing at ``url`` and Sen's migrations."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str) -> None:
    """Bring the operational store at ``url`` to the newest schema."""
    from alembic import command

    command.upgrade(alembic_config(url), "head")


def connect(url: str, *, migrate: bool = True) -> Engine:
    """An engine on the operational store, migrated to the newest schema."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, future=True, pool_pre_ping=True)
    if url.startswith("sqlite"):
        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_con, _record):  # noqa: ANN001
            cur = dbapi_con.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()
    if migrate:
        upgrade(url)
    return engine
