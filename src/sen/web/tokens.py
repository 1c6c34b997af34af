"""API tokens for the management API: ``Authorization: Bearer <token>``.

A token is shown once, when it is made; the store keeps only its SHA-256 and a
short prefix that lets its owner recognise it in a list. SHA-256 (not Argon2)
is right here because tokens are long random strings, not guessable
passwords, and every API request has to look one up.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from sen.errors import AuthError, NotFoundError, ValidationError
from sen.store.operational import api_tokens, users
from sen.web.users import User, get_user

TOKEN_PREFIX = "sen_"
PREFIX_LENGTH = 12  # "sen_" and 8 random characters: enough to tell tokens apart


@dataclass(frozen=True)
class Token:
    """A token's record, never its secret."""

    id: int
    user_id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _row(r: sa.Row) -> Token:
    return Token(r.id, r.user_id, r.name, r.prefix, r.created_at, r.last_used_at, r.revoked_at)


def create_token(ops: sa.Engine, user: User, name: str) -> tuple[Token, str]:
    """A new token for ``user``: its record and the plaintext, which is never stored."""
    label = name.strip()
    if not 1 <= len(label) <= 200:
        raise ValidationError("Give the token a name of 1-200 characters, e.g. 'POS sync'.",
                              field="name", rule="length")
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with ops.begin() as con:
        new_id = con.execute(api_tokens.insert().values(
            user_id=user.id, name=label, prefix=plaintext[:PREFIX_LENGTH],
            token_hash=_digest(plaintext), created_at=_utcnow(),
        ).returning(api_tokens.c.id)).scalar_one()
        row = con.execute(sa.select(api_tokens).where(api_tokens.c.id == new_id)).one()
    return _row(row), plaintext


def list_tokens(ops: sa.Engine, user_id: int) -> list[Token]:
    """The user's tokens, newest first, revoked ones included (they show when)."""
    with ops.connect() as con:
        rows = con.execute(sa.select(api_tokens).where(api_tokens.c.user_id == user_id)
                           .order_by(api_tokens.c.id.desc()))
        return [_row(r) for r in rows]


def revoke_token(ops: sa.Engine, user_id: int, token_id: int) -> Token:
    """Revoke one of the user's own tokens; it stops working at once.

    A token of another user is reported as not found, so ids do not leak.
    """
    with ops.begin() as con:
        r = con.execute(sa.select(api_tokens).where(
            api_tokens.c.id == token_id, api_tokens.c.user_id == user_id)).first()
        if r is None:
            raise NotFoundError(f"You have no token with id {token_id}.")
        if r.revoked_at is None:
            con.execute(api_tokens.update().where(api_tokens.c.id == token_id)
                        .values(revoked_at=_utcnow()))
        return _row(con.execute(sa.select(api_tokens).where(api_tokens.c.id == token_id)).one())


def user_for_token(ops: sa.Engine, plaintext: str) -> User:
    """The enabled user a live token belongs to, noting when it was used; AuthError else."""
    if not plaintext.startswith(TOKEN_PREFIX):
        raise AuthError("This is not a Sen API token.",
                        hint="Create one on the Tokens page or with POST /api/tokens.")
    with ops.begin() as con:
        r = con.execute(
            sa.select(api_tokens.c.id, api_tokens.c.revoked_at, users.c.id.label("uid"),
                      users.c.disabled)
            .join(users, users.c.id == api_tokens.c.user_id)
            .where(api_tokens.c.token_hash == _digest(plaintext))
        ).first()
        if r is None:
            raise AuthError("Unknown API token.", hint="Check it was copied whole.")
        if r.revoked_at is not None:
            raise AuthError("This API token was revoked.", hint="Create a new one.")
        if r.disabled:
            raise AuthError("The account of this API token is disabled.",
                            hint="Ask an administrator to enable it.")
        con.execute(api_tokens.update().where(api_tokens.c.id == r.id)
                    .values(last_used_at=_utcnow()))
    return get_user(ops, r.uid)
