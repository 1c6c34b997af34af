"""Saved segments kept in sync with ad audiences: the links, their state and runs.

A *link* says "keep Meta audience 6123 equal to segment ``bought-7d``" (or a
Google Customer Match user list). Its definition lives in the operational
store (``audience_links``) beside the segment's; what was last sent to the
platform, member by member, lives in the analytical store
(``audience_sync_state``), and every attempt in ``audience_sync_runs``.

A sync reads the segment's members and their email and phone from the golden
record, compares them with the state (:func:`sen.segments.audiences.sync.plan_sync`),
sends removals then additions, and only then replaces the state, in one
transaction with the run's row. A failed attempt is recorded with its error
and leaves the state as it was, so the next attempt resends what may have
gone through, which both platforms treat as a no-op.

A link is *due* when its segment has run since the link last synced, or the
last attempt failed; ``sen serve`` syncs due links after segment runs
(:class:`AudienceSyncer`), off the event writer's thread except for the
final write.

Purposes are the marketer's words for why the audience exists, shown in the
UI: ``suppress`` (exclude from campaigns: bought recently), ``lookalike_seed``
(e.g. the highest-CLV customers, as a seed for lookalike audiences) and
``target``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import pyarrow as pa
import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field

from sen.errors import ConfigError, NotFoundError, ValidationError
from sen.segments.audiences.errors import AudienceUploadError
from sen.segments.audiences.google import GoogleCustomerMatch
from sen.segments.audiences.meta import MetaCustomAudience
from sen.segments.audiences.oauth import RefreshingAccessToken
from sen.segments.audiences.sync import AudienceDestination, AudienceSync, Contact, Member
from sen.store.operational import audience_links as links_table

log = logging.getLogger(__name__)

Destination = Literal["meta", "google"]
Purpose = Literal["suppress", "lookalike_seed", "target"]
ERROR_CHARS = 500


class AudienceLink(BaseModel):
    """One segment → one platform audience. The audience must already exist on the
    platform (created in Ads Manager / Google Ads); Sen fills and empties it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,99}$",
                      description="lower-case letters, digits, - and _")
    segment: str = Field(min_length=1, max_length=100)
    destination: Destination
    audience_id: str = Field(pattern=r"^[0-9]{1,30}$",
                             description="Meta custom audience id or Google user list id")
    purpose: Purpose = "target"
    enabled: bool = True
    created_by: str | None = None
    updated_at: datetime | None = None

    @property
    def audience(self) -> str:
        """Which audience the state belongs to: ``meta:6123``."""
        return f"{self.destination}:{self.audience_id}"


def _row_to_link(row: Any) -> AudienceLink:
    return AudienceLink(name=row.name, segment=row.segment, destination=row.destination,
                        audience_id=row.audience_id, purpose=row.purpose,
                        enabled=row.enabled, created_by=row.created_by,
                        updated_at=row.updated_at)


def get_link(ops: sa.Engine, name: str) -> AudienceLink:
    with ops.connect() as con:
        row = con.execute(sa.select(links_table).where(links_table.c.name == name)).first()
    if row is None:
        raise NotFoundError(f"There is no audience link '{name}'; GET /api/audiences lists "
                            "them.")
    return _row_to_link(row)


def all_links(ops: sa.Engine, *, segment: str | None = None) -> list[AudienceLink]:
    query = sa.select(links_table).order_by(links_table.c.name)
    if segment is not None:
        query = query.where(links_table.c.segment == segment)
    with ops.connect() as con:
        return [_row_to_link(r) for r in con.execute(query)]


def save_link(ops: sa.Engine, link: AudienceLink, *, actor: str | None = None) -> AudienceLink:
    """Create or replace a link; its segment must be saved (and not archived)."""
    from sen.segments import saved

    segment = saved.get(ops, link.segment)
    if segment.archived:
        raise ValidationError(f"Segment '{link.segment}' is archived; restore it or link "
                              "another one.", field="segment")
    now = _now()
    values = {"segment": link.segment, "destination": link.destination,
              "audience_id": link.audience_id, "purpose": link.purpose,
              "enabled": link.enabled, "updated_at": now}
    with ops.begin() as con:
        done = con.execute(sa.update(links_table).where(
            links_table.c.name == link.name).values(**values)).rowcount
        if not done:
            con.execute(sa.insert(links_table).values(name=link.name, created_by=actor,
                                                      created_at=now, **values))
    return get_link(ops, link.name)


def delete_link(ops: sa.Engine, engine: Any, name: str) -> None:
    """Forget a link and what was sent (the platform's audience is left as it is)."""
    get_link(ops, name)
    with ops.begin() as con:
        con.execute(sa.delete(links_table).where(links_table.c.name == name))
    engine.execute("DELETE FROM audience_sync_state WHERE link = ?", [name])


def _now() -> datetime:
    from sen.traits.runner import now

    return now()


# -- destinations -------------------------------------------------------------------------

def destination_for(link: AudienceLink, settings: Any) -> AudienceDestination:
    """The platform client for ``link`` from Sen's settings; a missing credential is
    named, with the setting to fill."""
    if link.destination == "meta":
        if not settings.meta_access_token:
            raise ConfigError("Syncing to Meta needs an access token: set "
                              "SEN_META_ACCESS_TOKEN (a system user token with "
                              "ads_management).")
        return MetaCustomAudience(link.audience_id, settings.meta_access_token,
                                  base_url=settings.meta_graph_url,
                                  api_version=settings.meta_api_version)
    missing = [name for name, value in (
        ("SEN_GOOGLE_ADS_CUSTOMER_ID", settings.google_ads_customer_id),
        ("SEN_GOOGLE_ADS_DEVELOPER_TOKEN", settings.google_ads_developer_token)) if not value]
    token = _google_token(settings)
    if token is None:
        missing.append("SEN_GOOGLE_ADS_REFRESH_TOKEN with SEN_GOOGLE_ADS_CLIENT_ID and "
                       "SEN_GOOGLE_ADS_CLIENT_SECRET (or SEN_GOOGLE_ADS_ACCESS_TOKEN)")
    if missing:
        raise ConfigError(f"Syncing to Google Customer Match needs {', '.join(missing)}.")
    return GoogleCustomerMatch(settings.google_ads_customer_id, link.audience_id,
                               developer_token=settings.google_ads_developer_token,
                               access_token=token,
                               login_customer_id=settings.google_ads_login_customer_id or None,
                               base_url=settings.google_ads_url,
                               api_version=settings.google_ads_api_version)


# One renewing token per OAuth client and refresh token, kept across syncs so that an
# access token is fetched about once an hour, not once per sync.
_TOKENS: dict[tuple[str, str, str], RefreshingAccessToken] = {}
_TOKENS_LOCK = threading.Lock()


def _google_token(settings: Any) -> str | RefreshingAccessToken | None:
    """The refresh-token flow when it is configured, else the access token as given."""
    oauth = (settings.google_ads_client_id, settings.google_ads_client_secret,
             settings.google_ads_refresh_token)
    if all(oauth):
        key = (settings.google_oauth_token_url, oauth[0], oauth[2])
        with _TOKENS_LOCK:
            if key not in _TOKENS:
                _TOKENS[key] = RefreshingAccessToken(*oauth,
                                                     token_url=settings.google_oauth_token_url)
            return _TOKENS[key]
    return settings.google_ads_access_token or None


# -- syncing ------------------------------------------------------------------------------

@dataclass(frozen=True)
class LinkRun:
    """One attempt: counts when it went through, the error when it did not."""

    link: str
    run_at: datetime
    segment_run_at: datetime | None
    status: str  # "ok" or "failed"
    added: int = 0
    removed: int = 0
    unchanged: int = 0
    skipped: int = 0
    seconds: float = 0.0
    error: str | None = None


@dataclass(frozen=True)
class Prepared:
    """What a sync reads before it sends anything.

    Members whose email and phone, as stored, are what the last good sync saw
    are *unchanged*: they are counted in SQL and never normalised again, so a
    steady segment of a million costs a join, not a million normalisations.
    ``current`` holds the members who entered or whose contact changed;
    ``previous`` what was sent for them and for those who left.
    """

    link: AudienceLink
    segment_run_at: datetime | None
    previous: dict[str, Member]
    current: dict[str, Contact]
    unchanged: int = 0
    unchanged_skipped: int = 0
    touched: frozenset[str] = frozenset()  # state rows a good sync replaces


# Each member (``c``) beside what was last sent for her (``s``), joined once.
_PAIRED = """
    WITH s AS (
        SELECT profile_id, raw_email, raw_phone, email, phone FROM audience_sync_state
        WHERE link = $link AND audience = $audience
    ), c AS (
        SELECT m.profile_id, p.email AS raw_email, p.phone AS raw_phone
        FROM segment_members m JOIN profiles p USING (profile_id) WHERE m.segment = $segment
    )
    SELECT coalesce(c.profile_id, s.profile_id) AS profile_id,
           c.profile_id IS NOT NULL AS member, c.raw_email, c.raw_phone,
           s.email, s.phone,
           c.profile_id IS NOT NULL AND s.profile_id IS NOT NULL
               AND c.raw_email IS NOT DISTINCT FROM s.raw_email
               AND c.raw_phone IS NOT DISTINCT FROM s.raw_phone AS same
    FROM c FULL JOIN s USING (profile_id)
"""


def prepare(engine: Any, link: AudienceLink) -> Prepared:
    """The members who entered, left or changed contact since the last good sync."""
    cur = engine.cursor()
    params = {"link": link.name, "audience": link.audience, "segment": link.segment}
    cur.execute("BEGIN TRANSACTION")  # one snapshot for every read
    try:
        last_run = cur.execute("SELECT max(run_at) FROM segment_runs WHERE segment = ?",
                               [link.segment]).fetchall()[0][0]
        unchanged, unchanged_skipped = cur.execute(f"""
            SELECT count(*) FILTER (WHERE same),
                   count(*) FILTER (WHERE same AND email IS NULL AND phone IS NULL)
            FROM ({_PAIRED})
        """, params).fetchall()[0]
        rest = cur.execute(f"SELECT * EXCLUDE (same) FROM ({_PAIRED}) WHERE NOT same",
                           params).fetchall()
    finally:
        cur.execute("ROLLBACK")
    current = {pid: (raw_email, raw_phone)
               for pid, member, raw_email, raw_phone, _, _ in rest if member}
    # What was sent for the rest; a member sent nothing (no usable contact) is not in it.
    previous = {pid: Member(pid, email, phone) for pid, _, _, _, email, phone in rest
                if email is not None or phone is not None}
    return Prepared(link, last_run, previous, current, int(unchanged or 0),
                    int(unchanged_skipped or 0), frozenset(r[0] for r in rest))


# A state row: profile id, email and phone as stored, then as sent (normalised; both
# empty for a member with nothing usable, so she is not normalised again either).
StateRow = tuple[str, str | None, str | None, str | None, str | None]


def send(prepared: Prepared, destination: AudienceDestination,
         ) -> tuple[LinkRun, list[StateRow] | None]:
    """Push the difference; a platform or configuration error becomes a failed run
    (and no new state)."""
    started, run_at = time.perf_counter(), _now()
    try:
        report = AudienceSync(destination).run(prepared.previous, prepared.current)
    except (AudienceUploadError, ConfigError) as exc:
        log.warning("audience link %s failed: %s", prepared.link.name, exc)
        return LinkRun(prepared.link.name, run_at, prepared.segment_run_at, "failed",
                       seconds=time.perf_counter() - started,
                       error=str(exc)[:ERROR_CHARS]), None
    finally:
        close = getattr(destination, "close", None)
        if close is not None:
            close()
    rows = []
    for pid, (raw_email, raw_phone) in sorted(prepared.current.items()):
        sent = report.state.get(pid)
        rows.append((pid, raw_email, raw_phone, sent.email if sent else None,
                     sent.phone if sent else None))
    return LinkRun(prepared.link.name, run_at, prepared.segment_run_at, "ok", report.added,
                   report.removed, prepared.unchanged + report.unchanged,
                   prepared.unchanged_skipped + report.skipped_without_identifiers,
                   time.perf_counter() - started), rows


def record(engine: Any, run: LinkRun, prepared: Prepared, rows: list[StateRow] | None) -> LinkRun:
    """Store the run and, when it went through, the state rows it changed: one
    transaction. State kept for another audience (the link was pointed elsewhere)
    goes."""
    cur = engine.cursor()
    cur.execute("BEGIN TRANSACTION")
    try:
        if run.status == "ok" and rows is not None:
            link, audience = prepared.link.name, prepared.link.audience
            cur.execute("DELETE FROM audience_sync_state WHERE link = ? AND audience <> ?",
                        [link, audience])
            cur.register("_aud_touched", pa.table({"profile_id": pa.array(
                sorted(prepared.touched), pa.string())}))
            cur.execute("DELETE FROM audience_sync_state WHERE link = ? AND profile_id IN "
                        "(SELECT profile_id FROM _aud_touched)", [link])
            cur.unregister("_aud_touched")
            if rows:
                columns = list(zip(*rows, strict=True))
                cur.register("_aud_rows", pa.table({
                    name: pa.array(values, pa.string()) for name, values in zip(
                        ("profile_id", "raw_email", "raw_phone", "email", "phone"), columns,
                        strict=True)}))
                cur.execute("INSERT INTO audience_sync_state SELECT ?, ?, profile_id, "
                            "raw_email, raw_phone, email, phone FROM _aud_rows",
                            [link, audience])
                cur.unregister("_aud_rows")
        cur.execute("INSERT INTO audience_sync_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [run.link, run.run_at, run.segment_run_at, run.status, run.added,
                     run.removed, run.unchanged, run.skipped, run.seconds, run.error])
        cur.execute("COMMIT")
    except BaseException:
        cur.execute("ROLLBACK")
        raise
    return run


def attempt(engine: Any, link: AudienceLink,
            destination_of: Callable[[AudienceLink], AudienceDestination],
            ) -> tuple[LinkRun, Prepared, list[StateRow] | None]:
    """Read and send one link; nothing is written yet (see :func:`record`)."""
    prepared = prepare(engine, link)
    try:
        destination = destination_of(link)
    except ConfigError as exc:
        return LinkRun(link.name, _now(), prepared.segment_run_at, "failed",
                       error=str(exc)), prepared, None
    run, rows = send(prepared, destination)
    return run, prepared, rows


Write = Callable[[Callable[[], LinkRun]], LinkRun]


def sync(engine: Any, link: AudienceLink, *, settings: Any = None,
         destination: AudienceDestination | None = None, write: Write | None = None) -> LinkRun:
    """Sync one link now: read and send on this thread, then record through ``write``
    (``sen serve`` passes the event writer's ``run_exclusive``). The destination
    comes from ``settings`` unless given."""
    run, prepared, rows = attempt(
        engine, link, (lambda _: destination) if destination is not None
        else (lambda lk: destination_for(lk, settings)))
    return (write or _now_here)(lambda: record(engine, run, prepared, rows))


def _now_here(fn: Callable[[], LinkRun]) -> LinkRun:
    return fn()


def due(engine: Any, links: list[AudienceLink]) -> list[AudienceLink]:
    """Enabled links whose segment ran since their last good sync, or whose last
    attempt failed; a segment that never ran has nothing to send yet."""
    cur = engine.cursor()
    segment_runs = dict(cur.execute(
        "SELECT segment, max(run_at) FROM segment_runs GROUP BY segment").fetchall())
    last = {r[0]: r[1:] for r in cur.execute("""
        SELECT link, arg_max(status, run_at), max(segment_run_at) FILTER (WHERE status = 'ok')
        FROM audience_sync_runs GROUP BY link
    """).fetchall()}
    out = []
    for link in links:
        ran = segment_runs.get(link.segment)
        if not link.enabled or ran is None:
            continue
        status, synced = last.get(link.name, (None, None))
        if status == "failed" or synced is None or synced < ran:
            out.append(link)
    return out


def last_runs(engine: Any) -> dict[str, LinkRun]:
    """Every link's latest attempt, by link name (one query, for lists)."""
    rows = engine.cursor().execute("""
        SELECT link, run_at, segment_run_at, status, added, removed, unchanged, skipped,
               seconds, error
        FROM audience_sync_runs QUALIFY row_number() OVER (PARTITION BY link
                                                           ORDER BY run_at DESC) = 1
    """).fetchall()
    return {r[0]: LinkRun(*r) for r in rows}


def history(engine: Any, name: str, limit: int = 50) -> list[LinkRun]:
    rows = engine.cursor().execute("""
        SELECT link, run_at, segment_run_at, status, added, removed, unchanged, skipped,
               seconds, error
        FROM audience_sync_runs WHERE link = ? ORDER BY run_at DESC LIMIT ?
    """, [name, limit]).fetchall()
    return [LinkRun(*r) for r in rows]


def sync_due(engine: Any, ops: sa.Engine, settings: Any, *, write: Write | None = None,
             destination_of: Callable[[AudienceLink], AudienceDestination] | None = None,
             ) -> list[LinkRun]:
    """Sync every due link (see :func:`sync`)."""
    return [sync(engine, link, settings=settings, write=write,
                 destination=destination_of(link) if destination_of else None)
            for link in due(engine, all_links(ops))]
