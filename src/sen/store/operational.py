"""The operational store: SQLAlchemy Core tables, migrated by Alembic.

SQLite by default, PostgreSQL in production; the same code and the same tests
run on both. Tables here hold definitions and state (users, write keys, import
runs, saved segments), never the event log.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
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

# -- Messaging (sen.messaging) ------------------------------------------------------
# Settings people change in the app (the messaging policy…), as JSON per key.
app_settings = sa.Table(
    "app_settings",
    metadata,
    sa.Column("key", sa.String(100), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("updated_by", sa.String(120)),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

# Current consent per contact point: a channel's address (a phone in E.164, an email,
# a push endpoint) and a purpose. The history and the proof are Consent Granted /
# Consent Revoked events in the log; this is what the policy gate reads.
consents = sa.Table(
    "consents",
    metadata,
    sa.Column("channel", sa.String(10), primary_key=True),
    sa.Column("address", sa.String(320), primary_key=True),
    sa.Column("purpose", sa.String(20), primary_key=True),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("source", sa.String(30), nullable=False),
    sa.Column("proof", sa.Text, nullable=False, server_default="{}"),
    sa.Column("profile_id", sa.String(40), index=True),
    sa.Column("record", sa.String(200)),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

# Addresses that cannot receive (a hard bounce, an invalid number, a push subscription
# gone): the gate refuses them until a new consent or a manual reset clears the row.
unreachable = sa.Table(
    "unreachable",
    metadata,
    sa.Column("channel", sa.String(10), primary_key=True),
    sa.Column("address", sa.String(320), primary_key=True),
    sa.Column("reason", sa.String(60), nullable=False),
    sa.Column("detail", sa.Text),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

templates = sa.Table(
    "templates",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("channel", sa.String(10), nullable=False),
    sa.Column("purpose", sa.String(20), nullable=False),
    sa.Column("subject", sa.Text),
    sa.Column("body", sa.Text, nullable=False, server_default=""),
    sa.Column("html", sa.Text),
    sa.Column("data", sa.Text, nullable=False, server_default="{}"),
    sa.Column("strip_diacritics", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    sa.Column("archived", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_by", sa.String(120)),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

campaigns = sa.Table(
    "campaigns",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("segment", sa.String(100), nullable=False),
    sa.Column("purpose", sa.String(20), nullable=False),
    sa.Column("definition", sa.Text, nullable=False),  # JSON of sen.messaging.campaigns
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("audience", sa.Integer),
    sa.Column("holdout", sa.Integer),
    sa.Column("queued", sa.Integer),
    sa.Column("suppressed", sa.Integer),
    sa.Column("created_by", sa.String(120)),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Column("launched_at", sa.DateTime),
    sa.Column("finished_at", sa.DateTime),
)

# Who a campaign or journey targeted, and in which group (treatment or holdout):
# the holdout is random, recorded here, and never messaged.
audience_members = sa.Table(
    "audience_members",
    metadata,
    sa.Column("owner", sa.String(120), primary_key=True),  # "campaign:<name>", "journey:<name>"
    sa.Column("profile_id", sa.String(40), primary_key=True),
    sa.Column("record", sa.String(200)),
    sa.Column("grp", sa.String(10), nullable=False),  # treatment | holdout
    sa.Column("assigned_at", sa.DateTime, nullable=False),
)

# The outbox. A row is written, with its idempotency key, in the same transaction as
# the policy gate's frequency-cap reservation (the row *is* the reservation), before
# any provider is called.
messages = sa.Table(
    "messages",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
              autoincrement=True),
    sa.Column("key", sa.String(200), nullable=False, unique=True),
    sa.Column("campaign", sa.String(100), index=True),
    sa.Column("journey", sa.String(100)),
    sa.Column("step", sa.String(100)),
    sa.Column("variant", sa.String(40)),
    sa.Column("template", sa.String(100)),
    sa.Column("template_version", sa.Integer),
    sa.Column("channel", sa.String(10), nullable=False),
    sa.Column("purpose", sa.String(20), nullable=False),
    sa.Column("provider", sa.String(60)),
    sa.Column("profile_id", sa.String(40), nullable=False),
    sa.Column("record", sa.String(200)),
    sa.Column("address", sa.String(320), nullable=False),
    sa.Column("context", sa.Text, nullable=False, server_default="{}"),
    sa.Column("due_at", sa.DateTime, nullable=False),
    sa.Column("status", sa.String(12), nullable=False),
    sa.Column("quiet_policy", sa.String(10), nullable=False, server_default="wait"),
    sa.Column("fallback", sa.Text),  # JSON: the channels still to try, with templates
    sa.Column("fallback_of", sa.BigInteger),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", sa.DateTime),
    sa.Column("claimed_by", sa.String(60)),
    sa.Column("claimed_at", sa.DateTime),
    sa.Column("provider_id", sa.String(120)),
    sa.Column("cost", sa.BigInteger),
    sa.Column("error", sa.Text),
    sa.Column("body", sa.Text),
    sa.Column("subject", sa.Text),
    sa.Column("links", sa.Text),  # JSON list of the URLs the tracked links point at
    sa.Column("coupon", sa.String(32)),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("sent_at", sa.DateTime),
    sa.Column("delivered_at", sa.DateTime),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Index("ix_messages_status_due", "status", "due_at"),
    sa.Index("ix_messages_profile_due", "profile_id", "due_at"),
    sa.Index("ix_messages_address_due", "address", "due_at"),
    # Most rows have no journey, and no provider id until sent: partial indexes keep
    # a broadcast's inserts cheap.
    sa.Index("ix_messages_journey", "journey",
             sqlite_where=sa.text("journey IS NOT NULL"),
             postgresql_where=sa.text("journey IS NOT NULL")),
    sa.Index("ix_messages_provider_id", "provider_id",
             sqlite_where=sa.text("provider_id IS NOT NULL"),
             postgresql_where=sa.text("provider_id IS NOT NULL")),
)

# Events messaging, consent and coupons produce, waiting for the event writer: the
# relay appends them to the log (their messageIds make that idempotent) and marks them.
pending_events = sa.Table(
    "pending_events",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
              autoincrement=True),
    sa.Column("message_id", sa.String(200), nullable=False, unique=True),
    sa.Column("event", sa.String(60), nullable=False),
    sa.Column("user_id", sa.String(200)),
    sa.Column("anonymous_id", sa.String(200)),
    sa.Column("timestamp", sa.DateTime, nullable=False),
    sa.Column("properties", sa.Text, nullable=False),
    sa.Column("context", sa.Text),
    sa.Column("relayed_at", sa.DateTime, index=True),
)

clicks = sa.Table(
    "clicks",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
              autoincrement=True),
    sa.Column("message_id", sa.BigInteger, nullable=False, index=True),
    sa.Column("link", sa.Integer, nullable=False),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("ip", sa.String(64)),
    sa.Column("user_agent", sa.Text),
    sa.Column("bot", sa.Boolean, nullable=False, server_default=sa.false()),
)

coupon_pools = sa.Table(
    "coupon_pools",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(10), nullable=False),  # generated | imported
    sa.Column("prefix", sa.String(8), nullable=False, server_default=""),
    sa.Column("length", sa.Integer, nullable=False, server_default="8"),
    sa.Column("offer", sa.Text, nullable=False, server_default=""),
    sa.Column("valid_days", sa.Integer),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

coupons = sa.Table(
    "coupons",
    metadata,
    sa.Column("code", sa.String(32), primary_key=True),
    sa.Column("pool", sa.String(100), nullable=False, index=True),
    sa.Column("campaign", sa.String(100)),
    sa.Column("message_id", sa.BigInteger, index=True),
    sa.Column("profile_id", sa.String(40)),
    sa.Column("record", sa.String(200)),
    sa.Column("issued_at", sa.DateTime),
    sa.Column("expires_at", sa.DateTime),
    sa.Column("redeemed_at", sa.DateTime),
    sa.Column("redeemed_order", sa.String(120)),
    sa.Column("redeemed_store", sa.String(60)),
    sa.Column("redeemed_channel", sa.String(30)),
    sa.Column("redeemed_source", sa.String(100)),
    # The codes an imported pool can still hand out, so drawing one is a lookup.
    sa.Index("ix_coupons_pool_free", "pool", "code",
             postgresql_where=sa.text("issued_at IS NULL AND redeemed_at IS NULL"),
             sqlite_where=sa.text("issued_at IS NULL AND redeemed_at IS NULL")),
)

push_subscriptions = sa.Table(
    "push_subscriptions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("endpoint_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("endpoint", sa.Text, nullable=False),
    sa.Column("p256dh", sa.String(200), nullable=False),
    sa.Column("auth", sa.String(100), nullable=False),
    sa.Column("record", sa.String(200), index=True),
    sa.Column("source", sa.String(100)),
    sa.Column("user_agent", sa.Text),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("last_seen_at", sa.DateTime, nullable=False),
    sa.Column("removed_at", sa.DateTime),
    sa.Column("removed_reason", sa.String(60)),
)

# Provider accounts set up in the app. ``secrets`` is encrypted (sen.store.secrets)
# and never shown back.
providers = sa.Table(
    "providers",
    metadata,
    sa.Column("name", sa.String(60), primary_key=True),
    sa.Column("kind", sa.String(30), nullable=False),
    sa.Column("channel", sa.String(10), nullable=False),
    sa.Column("config", sa.Text, nullable=False, server_default="{}"),
    sa.Column("secrets", sa.Text, nullable=False, server_default=""),
    sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("priority", sa.Integer, nullable=False, server_default="100"),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

# OAuth tokens a provider renews itself (Zalo's refresh tokens are single-use, so the
# new pair is stored in one statement with each refresh). Encrypted.
provider_tokens = sa.Table(
    "provider_tokens",
    metadata,
    sa.Column("provider", sa.String(60), primary_key=True),
    sa.Column("access_token", sa.Text, nullable=False),
    sa.Column("refresh_token", sa.Text, nullable=False),
    sa.Column("expires_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

# Data-subject requests carried out (decree 13/2023): what was exported or erased.
privacy_requests = sa.Table(
    "privacy_requests",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(10), nullable=False),  # export | erase
    sa.Column("profile_id", sa.String(40), nullable=False),
    sa.Column("records", sa.Text, nullable=False, server_default="[]"),
    sa.Column("summary", sa.Text, nullable=False, server_default="{}"),
    sa.Column("requested_by", sa.String(120)),
    sa.Column("done_at", sa.DateTime, nullable=False),
)

# A single row each writer of the outbox updates first on SQLite, so reservations
# there run one at a time (PostgreSQL takes advisory locks per profile and address).
locks = sa.Table(
    "locks",
    metadata,
    sa.Column("name", sa.String(40), primary_key=True),
    sa.Column("n", sa.BigInteger, nullable=False, server_default="0"),
)


MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def insert_ignore(con: sa.Connection, table: sa.Table, rows: list[dict]) -> int:
    """Insert ``rows``, skipping those whose primary or unique key exists; how many went in.

    The idempotent write every retryable path uses (an outbox row under its key,
    an event under its messageId), on SQLite and PostgreSQL alike.
    """
    if not rows:
        return 0
    if con.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    # Without preserve_rowcount SQLAlchemy reports -1 for INSERTs on psycopg.
    stmt = insert(table).on_conflict_do_nothing().execution_options(preserve_rowcount=True)
    result = con.execute(stmt, rows)
    return max(result.rowcount, 0) if result.rowcount is not None else 0


def select_in(con: sa.Connection, sql: str, values: Sequence[object],
              params: Sequence[object] = (), *, size: int = 5000) -> list[tuple]:
    """Rows of ``sql`` whose ``{in}`` placeholder is each slice of ``values`` in turn,
    run by the driver directly: for the large look-ups of a broadcast (consent,
    history of a chunk of recipients), where building the statement through
    SQLAlchemy costs more than the query. ``params`` come before the slice."""
    mark = "%s" if con.dialect.name == "postgresql" else "?"
    out: list[tuple] = []
    for start in range(0, len(values), size):
        part = list(values[start:start + size])
        text = sql.replace("{in}", ", ".join([mark] * len(part))).replace("{p}", mark)
        out += con.exec_driver_sql(text, (*params, *part)).fetchall()
    return out


def _sqlite_times(table: sa.Table, names: list[str], data: list[tuple]) -> list[tuple]:
    """Datetimes as SQLAlchemy's SQLite type stores them (always with microseconds, so
    text comparison orders them); each distinct moment is formatted once."""
    at = [i for i, n in enumerate(names) if isinstance(table.c[n].type, sa.DateTime)]
    if not at:
        return data
    text: dict[datetime, str] = {}

    def fmt(v: object) -> object:
        if v is None:
            return None
        s = text.get(v)  # type: ignore[call-overload]
        if s is None:
            s = text[v] = v.isoformat(" ", "microseconds")  # type: ignore[union-attr,index]
        return s

    out = []
    for row in data:
        values = list(row)
        for i in at:
            values[i] = fmt(values[i])
        out.append(tuple(values))
    return out


def bulk_insert_ignore(con: sa.Connection, table: sa.Table, names: Sequence[str],
                       rows: list[tuple]) -> None:
    """:func:`insert_ignore` for large batches: one prepared statement run by the
    driver's ``executemany``, skipping SQLAlchemy's per-row parameter processing
    (a broadcast to a million recipients writes a million outbox rows). ``rows``
    are tuples of the ``names`` columns (every column without a server default
    that must not be empty); values are plain Python (str, int, bool, naive UTC
    datetimes, None)."""
    if not rows:
        return
    names = list(names)
    columns = ", ".join(f'"{n}"' for n in names)
    data = rows
    if con.dialect.name == "postgresql":
        marks = ", ".join(["%s"] * len(names))
    else:
        marks = ", ".join(["?"] * len(names))
        data = _sqlite_times(table, names, data)
    sql = f'INSERT INTO "{table.name}" ({columns}) VALUES ({marks}) ON CONFLICT DO NOTHING'
    con.exec_driver_sql(sql, data)


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
            # The outbox of a million-recipient campaign and its indexes outgrow SQLite's
            # 2 MB default page cache; 64 MB keeps a broadcast's look-ups off the disk.
            cur.execute("PRAGMA cache_size=-65536")
            cur.execute("PRAGMA temp_store=MEMORY")
            cur.close()
    if migrate:
        upgrade(url)
    return engine
