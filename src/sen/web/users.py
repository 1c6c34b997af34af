"""Users of the management UI and API: accounts, roles and passwords.

Plain functions over the operational store's engine, so the CLI, the demo
bootstrap and the web layer share one set of rules. Passwords are hashed with
Argon2id; a hash made with weaker parameters is upgraded on the next good login.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from sen.errors import AuthError, NotFoundError, ValidationError
from sen.store.operational import ROLES, users

LOCALES = ("vi", "en")
MIN_PASSWORD_LENGTH = 8
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,119}$")
_hasher = PasswordHasher()  # argon2-cffi's defaults are Argon2id (RFC 9106 low-memory profile)
# Verified against when the username is unknown, so both failures take as long.
_DUMMY_HASH = _hasher.hash("sen-no-such-user")


class AccountDisabledError(AuthError):
    """The password was right but the account is disabled (the UI says so plainly)."""


@dataclass(frozen=True)
class User:
    """An account, without its password hash."""

    id: int
    username: str
    display_name: str
    role: str
    locale: str
    disabled: bool
    created_at: datetime


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _row(r: sa.Row) -> User:
    return User(r.id, r.username, r.display_name, r.role, r.locale, bool(r.disabled),
                r.created_at)


def check_username(username: str) -> str:
    """The username in canonical (lower-case) form, or a ValidationError saying the rule."""
    name = username.strip().lower()
    if not _USERNAME.match(name):
        raise ValidationError(
            f"Username {username!r} is not allowed: use 2-120 lower-case letters, digits, "
            "and . _ @ -, starting with a letter or digit.",
            field="username", rule="username",
        )
    return name


def check_role(role: str) -> str:
    if role not in ROLES:
        raise ValidationError(f"Role {role!r} is unknown: use one of {', '.join(ROLES)}.",
                              field="role", rule="role")
    return role


def check_locale(locale: str) -> str:
    if locale not in LOCALES:
        raise ValidationError(f"Language {locale!r} is not offered: use one of "
                              f"{', '.join(LOCALES)}.", field="locale", rule="locale")
    return locale


def hash_password(password: str) -> str:
    """An Argon2id hash of ``password``, refusing passwords too short to be safe."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(
            f"The password is too short: use at least {MIN_PASSWORD_LENGTH} characters.",
            field="password", rule="min_length",
        )
    return _hasher.hash(password)


def create_user(ops: sa.Engine, username: str, password: str, role: str, *,
                display_name: str | None = None, locale: str = "vi") -> User:
    """Add an account; the username must be new."""
    name = check_username(username)
    values = dict(username=name, display_name=(display_name or name).strip() or name,
                  password_hash=hash_password(password), role=check_role(role),
                  locale=check_locale(locale), disabled=False, created_at=_utcnow())
    with ops.begin() as con:
        if con.execute(sa.select(users.c.id).where(users.c.username == name)).first():
            raise ValidationError(f"A user named {name!r} already exists.",
                                  field="username", rule="unique")
        con.execute(users.insert().values(**values))
        return _row(con.execute(sa.select(users).where(users.c.username == name)).one())


def get_user(ops: sa.Engine, user_id: int) -> User:
    with ops.connect() as con:
        r = con.execute(sa.select(users).where(users.c.id == user_id)).first()
    if r is None:
        raise NotFoundError(f"There is no user with id {user_id}.")
    return _row(r)


def find_user(ops: sa.Engine, username: str) -> User | None:
    with ops.connect() as con:
        r = con.execute(sa.select(users).where(users.c.username == username.strip().lower())
                        ).first()
    return _row(r) if r else None


def list_users(ops: sa.Engine) -> list[User]:
    with ops.connect() as con:
        return [_row(r) for r in con.execute(sa.select(users).order_by(users.c.username))]


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def authenticate(ops: sa.Engine, username: str, password: str) -> User:
    """The account whose password this is; AuthError otherwise.

    Unknown user and wrong password give the same message, so the login form
    does not reveal which usernames exist. A disabled account is refused only
    after a correct password, for the same reason.
    """
    with ops.connect() as con:
        r = con.execute(sa.select(users).where(
            users.c.username == username.strip().lower())).first()
    if r is None:
        _verify(_DUMMY_HASH, password)
        raise AuthError("Wrong username or password.", hint="Check both and try again.")
    if not _verify(r.password_hash, password):
        raise AuthError("Wrong username or password.", hint="Check both and try again.")
    if r.disabled:
        raise AccountDisabledError("This account is disabled.",
                                   hint="Ask an administrator to enable it.")
    if _hasher.check_needs_rehash(r.password_hash):
        with ops.begin() as con:
            con.execute(users.update().where(users.c.id == r.id)
                        .values(password_hash=_hasher.hash(password)))
    return _row(r)


def _update(ops: sa.Engine, user_id: int, **values: object) -> None:
    with ops.begin() as con:
        if con.execute(users.update().where(users.c.id == user_id).values(**values)
                       ).rowcount == 0:
            raise NotFoundError(f"There is no user with id {user_id}.")


def set_password(ops: sa.Engine, user_id: int, password: str) -> None:
    _update(ops, user_id, password_hash=hash_password(password))


def disable_user(ops: sa.Engine, user_id: int, disabled: bool = True) -> None:
    """Disable (or re-enable) an account: it can no longer log in or use its tokens."""
    _update(ops, user_id, disabled=disabled)


def set_locale(ops: sa.Engine, user_id: int, locale: str) -> None:
    _update(ops, user_id, locale=check_locale(locale))


def ensure_admin(ops: sa.Engine, username: str, password: str) -> User:
    """An enabled admin called ``username`` with this password (created or reset).

    For the demo bootstrap and first start: running it twice is harmless.
    """
    found = find_user(ops, username)
    if found is None:
        return create_user(ops, username, password, "admin", display_name="Administrator")
    _update(ops, found.id, password_hash=hash_password(password), role="admin", disabled=False)
    return get_user(ops, found.id)
