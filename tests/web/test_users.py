"""Accounts and passwords, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from sen.errors import AuthError, NotFoundError, ValidationError
from sen.store.operational import users as users_table
from sen.web.users import (
    AccountDisabledError,
    authenticate,
    create_user,
    disable_user,
    ensure_admin,
    list_users,
    set_password,
)

PW = "hoa-sen-2026"


def _stored_hash(ops, user_id: int) -> str:
    with ops.connect() as con:
        return con.execute(sa.select(users_table.c.password_hash)
                           .where(users_table.c.id == user_id)).scalar_one()


def test_created_user_can_log_in_and_password_is_an_argon2id_hash(ops):
    lan = create_user(ops, " Lan.Nguyen ", PW, "marketer", display_name="Nguyễn Thị Lan")
    assert (lan.username, lan.display_name, lan.role, lan.locale) == \
        ("lan.nguyen", "Nguyễn Thị Lan", "marketer", "vi")
    stored = _stored_hash(ops, lan.id)
    assert stored.startswith("$argon2id$") and PW not in stored
    assert authenticate(ops, "LAN.NGUYEN", PW) == lan


@pytest.mark.parametrize("username, password", [("lan", "wrong-password"), ("nobody", PW),
                                                ("lan", "")])
def test_wrong_password_and_unknown_user_get_the_same_answer(ops, username, password):
    create_user(ops, "lan", PW, "marketer")
    with pytest.raises(AuthError) as err:
        authenticate(ops, username, password)
    assert err.value.message == "Wrong username or password."
    assert not isinstance(err.value, AccountDisabledError)


def test_disabled_user_is_refused_even_with_the_right_password(ops):
    lan = create_user(ops, "lan", PW, "marketer")
    disable_user(ops, lan.id)
    with pytest.raises(AccountDisabledError):
        authenticate(ops, "lan", PW)
    disable_user(ops, lan.id, disabled=False)
    assert authenticate(ops, "lan", PW).disabled is False


def test_set_password_replaces_the_old_one(ops):
    lan = create_user(ops, "lan", PW, "marketer")
    set_password(ops, lan.id, "mat-khau-moi-2027")
    with pytest.raises(AuthError):
        authenticate(ops, "lan", PW)
    assert authenticate(ops, "lan", "mat-khau-moi-2027").id == lan.id


@pytest.mark.parametrize("kwargs, field, rule", [
    (dict(username="x", password=PW, role="marketer"), "username", "username"),
    (dict(username="Lan Nguyen", password=PW, role="marketer"), "username", "username"),
    (dict(username="lan", password="short", role="marketer"), "password", "min_length"),
    (dict(username="lan", password=PW, role="owner"), "role", "role"),
    (dict(username="lan", password=PW, role="support", locale="fr"), "locale", "locale"),
])
def test_bad_accounts_are_refused_naming_the_field(ops, kwargs, field, rule):
    with pytest.raises(ValidationError) as err:
        create_user(ops, **kwargs)
    assert (err.value.field, err.value.rule) == (field, rule)
    assert list_users(ops) == []


def test_usernames_are_unique_ignoring_case(ops):
    create_user(ops, "lan", PW, "marketer")
    with pytest.raises(ValidationError) as err:
        create_user(ops, "LAN", PW, "analyst")
    assert err.value.rule == "unique"


def test_changing_a_missing_user_is_not_found(ops):
    with pytest.raises(NotFoundError):
        disable_user(ops, 4242)
    with pytest.raises(NotFoundError):
        set_password(ops, 4242, PW)


def test_ensure_admin_creates_once_then_resets_and_reenables(ops):
    first = ensure_admin(ops, "admin", PW)
    assert first.role == "admin"
    disable_user(ops, first.id)
    again = ensure_admin(ops, "admin", "another-password")
    assert again.id == first.id and not again.disabled
    assert authenticate(ops, "admin", "another-password").id == first.id
    assert len(list_users(ops)) == 1


def test_a_hash_with_old_parameters_is_upgraded_on_login(ops):
    lan = create_user(ops, "lan", PW, "marketer")
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PW)
    with ops.begin() as con:
        con.execute(users_table.update().values(password_hash=weak))
    authenticate(ops, "lan", PW)
    upgraded = _stored_hash(ops, lan.id)
    assert upgraded != weak and "m=65536" in upgraded
    assert authenticate(ops, "lan", PW).id == lan.id
