"""API tokens: made once, stored hashed, revocable; on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib

import pytest
import sqlalchemy as sa

from sen.errors import AuthError, NotFoundError, ValidationError
from sen.store.operational import api_tokens
from sen.web.tokens import create_token, list_tokens, revoke_token, user_for_token
from sen.web.users import create_user, disable_user

PW = "hoa-sen-2026"


@pytest.fixture
def lan(ops):
    return create_user(ops, "lan", PW, "marketer")


def test_token_is_stored_as_a_hash_with_a_short_prefix(ops, lan):
    token, secret = create_token(ops, lan, "POS sync")
    with ops.connect() as con:
        row = con.execute(sa.select(api_tokens)).one()
    assert secret.startswith("sen_") and len(secret) > 40
    assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in (row.token_hash, row.prefix)
    assert row.prefix == secret[:12] == token.prefix
    assert token.active and token.last_used_at is None


def test_a_live_token_identifies_its_user_and_records_its_use(ops, lan):
    token, secret = create_token(ops, lan, "POS sync")
    assert user_for_token(ops, secret).id == lan.id
    [listed] = list_tokens(ops, lan.id)
    assert listed.last_used_at is not None and listed.last_used_at >= token.created_at


@pytest.mark.parametrize("bad", ["", "sen_", "Bearer x", "sen_not-a-real-token"])
def test_unknown_tokens_are_refused(ops, lan, bad):
    create_token(ops, lan, "real")
    with pytest.raises(AuthError):
        user_for_token(ops, bad)


def test_revoked_token_stops_working_and_revoking_again_is_harmless(ops, lan):
    token, secret = create_token(ops, lan, "POS sync")
    revoked = revoke_token(ops, lan.id, token.id)
    assert not revoked.active
    with pytest.raises(AuthError, match="revoked"):
        user_for_token(ops, secret)
    assert revoke_token(ops, lan.id, token.id).revoked_at == revoked.revoked_at


def test_nobody_can_revoke_another_users_token(ops, lan):
    token, secret = create_token(ops, lan, "POS sync")
    minh = create_user(ops, "minh", PW, "admin")
    with pytest.raises(NotFoundError):
        revoke_token(ops, minh.id, token.id)
    assert user_for_token(ops, secret).id == lan.id


def test_tokens_of_a_disabled_user_are_refused(ops, lan):
    _, secret = create_token(ops, lan, "POS sync")
    disable_user(ops, lan.id)
    with pytest.raises(AuthError, match="disabled"):
        user_for_token(ops, secret)


def test_each_user_lists_only_their_own_tokens_newest_first(ops, lan):
    minh = create_user(ops, "minh", PW, "admin")
    a, _ = create_token(ops, lan, "a")
    create_token(ops, minh, "m")
    b, _ = create_token(ops, lan, "b")
    assert [t.id for t in list_tokens(ops, lan.id)] == [b.id, a.id]


@pytest.mark.parametrize("name", ["", "   ", "x" * 201])
def test_a_token_needs_a_sensible_name(ops, lan, name):
    with pytest.raises(ValidationError):
        create_token(ops, lan, name)
    assert list_tokens(ops, lan.id) == []
