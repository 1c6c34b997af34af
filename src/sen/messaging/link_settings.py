"""What the retailer sets about tracked links, and the key that signs them.

**The key** (:func:`link_key`) is 32 random bytes made on first use and kept in
``app_settings`` (``messaging.link_key``), sealed with
:class:`sen.store.secrets.SecretBox` like provider secrets. Whoever holds it can
forge clicks and unsubscribe anyone, so a copy of the database alone must not
be enough; every process that renders or resolves links already opens the box
for provider secrets. It is never rotated: codes in messages already sent must
keep working.

**Settings** (:class:`LinkSettings`, ``app_settings['messaging.links']``): UTM
parameters on or off, and the shop's own domains whose links carry Segment's
identity parameters.
"""

from __future__ import annotations

import base64
import secrets
from urllib.parse import urlsplit

import sqlalchemy as sa
from pydantic import BaseModel, Field, field_validator

from sen.messaging import events
from sen.store.operational import app_settings, insert_ignore
from sen.store.secrets import SecretBox

KEY_SETTING, LINKS_SETTING = "messaging.link_key", "messaging.links"


def link_key(ops: sa.Engine, box: SecretBox) -> bytes:
    """Sen's link key, made on first use (every process then reads the same one)."""
    t = app_settings
    with ops.begin() as con:
        sealed = con.execute(sa.select(t.c.value).where(t.c.key == KEY_SETTING)).scalar()
        if sealed is None:
            fresh = base64.b64encode(secrets.token_bytes(32)).decode()
            insert_ignore(con, t, [{"key": KEY_SETTING, "value": box.seal(fresh),
                                    "updated_by": "sen", "updated_at": events.utc_now()}])
            sealed = con.execute(sa.select(t.c.value).where(t.c.key == KEY_SETTING)).scalar()
    return base64.b64decode(box.open(sealed))


class LinkSettings(BaseModel):
    """How tracked links decorate their destination (``app_settings['messaging.links']``)."""

    utm: bool = Field(default=True, description="Add utm_source/medium/campaign/content.")
    identity_domains: list[str] = Field(
        default_factory=list,
        description="The shop's own domains running analytics.js: links to them (and their "
        "subdomains) carry ajs_uid/ajs_aid so the visit joins the recipient's profile. "
        "Empty: never.")

    @field_validator("identity_domains")
    @classmethod
    def _hosts(cls, value: list[str]) -> list[str]:
        return [d.strip().lower().lstrip(".") for d in value if d.strip()]

    def identifies(self, url: str) -> bool:
        host = (urlsplit(url).hostname or "").lower()
        return any(host == d or host.endswith("." + d) for d in self.identity_domains)


def link_settings(con: sa.Connection) -> LinkSettings:
    raw = con.execute(sa.select(app_settings.c.value)
                      .where(app_settings.c.key == LINKS_SETTING)).scalar()
    return LinkSettings.model_validate_json(raw) if raw else LinkSettings()


def save_link_settings(ops: sa.Engine, settings: LinkSettings, by: str | None = None) -> None:
    t = app_settings
    values = {"value": settings.model_dump_json(), "updated_by": by,
              "updated_at": events.utc_now()}
    with ops.begin() as con:
        if not con.execute(t.update().where(t.c.key == LINKS_SETTING).values(**values)).rowcount:
            con.execute(t.insert().values(key=LINKS_SETTING, **values))
