"""The operational store's migrations and constraints, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from sen.store import operational
from sen.store.operational import api_tokens, metadata, sources, users

NOW = datetime(2026, 11, 23, 3, 0)


def _head() -> str:
    return ScriptDirectory.from_config(operational.alembic_config("sqlite://")).get_current_head()


def test_upgrade_from_empty_reaches_head_with_every_table(ops_url):
    engine = operational.connect(ops_url)
    try:
        with engine.connect() as con:
            version = con.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
            tables = set(sa.inspect(con).get_table_names())
        assert version == _head()
        assert set(metadata.tables) <= tables
    finally:
        engine.dispose()


def test_migrations_match_the_table_definitions(ops):
    """Code and migrations agree, so a column added to one is not missing from the other."""
    with ops.connect() as con:
        diff = compare_metadata(MigrationContext.configure(con), metadata)
    assert diff == []


def test_upgrade_twice_and_downgrade_to_empty_then_up_again(ops_url):
    from alembic import command

    operational.connect(ops_url).dispose()
    operational.upgrade(ops_url)  # nothing to do, no error
    command.downgrade(operational.alembic_config(ops_url), "base")
    engine = sa.create_engine(ops_url)
    with engine.connect() as con:
        assert not set(metadata.tables) & set(sa.inspect(con).get_table_names())
    engine.dispose()
    operational.upgrade(ops_url)
    engine = sa.create_engine(ops_url)
    with engine.connect() as con:
        assert set(metadata.tables) <= set(sa.inspect(con).get_table_names())
    engine.dispose()


def test_server_defaults_fill_flags_and_locale(ops):
    with ops.begin() as con:
        con.execute(users.insert().values(username="lan", display_name="Lan", password_hash="x",
                                          role="marketer", created_at=NOW))
        con.execute(sources.insert().values(name="web", kind="web", write_key="k1",
                                            created_at=NOW))
        user = con.execute(sa.select(users)).one()
        source = con.execute(sa.select(sources)).one()
    assert (user.disabled, user.locale) == (False, "vi")
    assert source.enabled is True


def test_usernames_and_token_hashes_are_unique(ops):
    row = dict(display_name="Lan", password_hash="x", role="marketer", created_at=NOW)
    with ops.begin() as con:
        con.execute(users.insert().values(username="lan", **row))
    with pytest.raises(sa.exc.IntegrityError), ops.begin() as con:
        con.execute(users.insert().values(username="lan", **row))
    token = dict(user_id=1, name="a", prefix="sen_abc", token_hash="h" * 64, created_at=NOW)
    with ops.begin() as con:
        con.execute(api_tokens.insert().values(**token))
    with pytest.raises(sa.exc.IntegrityError), ops.begin() as con:
        con.execute(api_tokens.insert().values(**token))


def test_a_token_must_belong_to_an_existing_user(ops):
    with pytest.raises(sa.exc.IntegrityError), ops.begin() as con:
        con.execute(api_tokens.insert().values(user_id=999, name="a", prefix="sen_abc",
                                               token_hash="h" * 64, created_at=NOW))
