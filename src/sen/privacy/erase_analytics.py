"""Erasure in the analytical store: her events made anonymous, her profile gone.

Everything runs in one transaction, the one identity's :func:`relink
<sen.identity.resolver.relink>` opens: the scrub is its ``before`` step, and the
re-link that follows recomputes the profiles her evidence touched (records of
her clusters, records that shared a value with her), so identity stays what a
rebuild from the scrubbed log would give. DuckDB has one writer: call
:func:`erase` on the event writer's thread in a running server.

The log stays append-only in the sense its readers rely on: events are updated
in place (their ``rowid`` does not change), never deleted or re-inserted, so the
watermarks of identity, traits and events by profile stay true.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from sen.identity import resolver
from sen.ingest.projections import apply_new_events
from sen.privacy import erase_identity
from sen.privacy.scrub import Matcher, Pseudonyms, rewrite_message_id, scrub_document
from sen.privacy.subject import Subject, belongs, find, with_endpoints
from sen.store.analytics import DuckDBEngine
from sen.store.settings import read_meta, write_meta

_NEW = pa.schema([("rid", pa.int64()), ("old_id", pa.string()), ("message_id", pa.string()),
                  ("type", pa.string()), ("user_id", pa.string()),
                  ("anonymous_id", pa.string()), ("previous_id", pa.string()),
                  ("name", pa.string()), ("properties", pa.string())])


@dataclass
class StoreErasure:
    """What the analytical side did: who it was (None if nobody was left), rows per
    table, the audience links whose ad-platform audience held her, and which of her
    addresses other profiles still carry."""

    subject: Subject | None
    counts: dict[str, int] = field(default_factory=dict)
    audience_links: list[str] = field(default_factory=list)
    shared_addresses: set[str] = field(default_factory=set)
    erased_before: bool = False  # this store already erased the id


def _marker(profile_id: str) -> str:
    """The ``sen_meta`` key saying a profile id was erased here: it then names nobody,
    even if the record of the request in the operational store could not be written."""
    return f"privacy.erased:{profile_id}"


def erase(engine: DuckDBEngine, requested: str, names: Pseudonyms, *, actor: str,
          follow: bool = True,
          endpoints: Callable[[list[str]], Iterable[str]] | None = None) -> StoreErasure:
    """Erase the profile ``requested`` names (see :func:`sen.privacy.subject.find`).

    Identity first folds in every stored event, so none of hers is left outside
    her profile to be linked again later. ``endpoints`` gives the Web Push
    endpoints of her records (messaging keeps them): their consent events are hers.
    """
    resolver.update(engine)
    cur = engine.cursor()
    erased_before = read_meta(cur, _marker(requested)) is not None
    subject = find(cur, requested, follow=follow and not erased_before)
    if subject is None:
        return StoreErasure(None, erased_before=erased_before)
    if endpoints is not None:
        subject = with_endpoints(cur, subject, endpoints(list(subject.records)))
    done = StoreErasure(subject)
    matcher = subject.matcher()
    seeds = erase_identity.neighbours(cur, subject)

    def scrub(c: Any) -> None:
        for pid in {requested, subject.profile_id}:
            write_meta(c, _marker(pid), "erased")
        done.counts.update(scrub_events(c, subject, names, matcher))
        done.audience_links.extend(erase_identity.audience_links(c, subject))
        done.counts.update(erase_identity.scrub(c, subject, names, matcher))

    resolver.relink(engine, seeds, actor=actor, cause="erasure", before=scrub)
    done.shared_addresses = {v for (v,) in cur.execute(
        "SELECT DISTINCT value FROM identity_observations WHERE list_contains(?::VARCHAR[], value)",
        [sorted(subject.addresses)]).fetchall()}
    drop_temporaries(cur)
    return done


def drop_temporaries(cur: Any) -> None:
    """Drop this cursor's temporary tables and views. Identity, projections and traits
    keep their working tables until their next run replaces them, and those of the runs
    just made (and of earlier ones) can hold her values; every run creates its own."""
    found = cur.execute("""
        SELECT 'TABLE', table_name FROM duckdb_tables() WHERE temporary
        UNION ALL
        SELECT 'VIEW', view_name FROM duckdb_views() WHERE temporary AND NOT internal
        ORDER BY 1 DESC""").fetchall()  # views first: they may read the tables
    for kind, name in found:
        cur.execute(f'DROP {kind} IF EXISTS temp.main."{name}"')


def _pseudonymous(row: tuple, subject: Subject, names: Pseudonyms, matcher: Matcher) -> dict:
    rid, mid, type_, uid, aid, prev, name, props = row
    kind = "u" if prev is not None and f"u:{prev.strip()}" in subject.records else "a"
    return {"rid": rid, "old_id": mid, "message_id": rewrite_message_id(mid, matcher, names),
            "type": type_, "user_id": names.id("u", uid), "anonymous_id": names.id("a", aid),
            "previous_id": names.id(kind, prev),
            "name": None if matcher.search(name) else name,
            "properties": scrub_document(props, matcher)}


def scrub_events(cur: Any, subject: Subject, names: Pseudonyms, matcher: Matcher
                 ) -> dict[str, int]:
    """Her events: ids pseudonymous, traits and context gone, properties scrubbed;
    then the orders and customers projections of those events."""
    where, params = belongs(subject)
    rows = cur.execute(f"""
        SELECT rowid, message_id, type, user_id, anonymous_id, previous_id, name,
               CAST(properties AS VARCHAR)
        FROM events WHERE {where}""", params).fetchall()
    new = pa.Table.from_pylist([_pseudonymous(r, subject, names, matcher) for r in rows],
                               schema=_NEW)
    cur.register("_pv_new", new)
    try:
        cur.execute("""
            UPDATE events SET message_id = n.message_id,
                message_key = md5_number_upper(n.message_id), user_id = n.user_id,
                anonymous_id = n.anonymous_id, previous_id = n.previous_id, name = n.name,
                properties = CAST(n.properties AS JSON), traits = NULL, context = NULL,
                extra = NULL
            FROM _pv_new n WHERE events.rowid = n.rid""")
        orders = _count(cur.execute("""
            UPDATE orders SET message_id = n.message_id, user_id = n.user_id,
                anonymous_id = n.anonymous_id, phone = NULL, email = NULL
            FROM _pv_new n WHERE orders.message_id = n.old_id"""))
        customers = _customers(cur, sorted({r[3] for r in rows
                                            if r[2] == "identify" and r[3] is not None}))
    finally:
        cur.unregister("_pv_new")
    return {"events": len(rows), "orders": orders, "customers": customers}


def _customers(cur: Any, user_ids: list[str]) -> int:
    """The ``customers`` rows her identify events fed, written again from the events
    now in the log, as a rebuild of the projection writes them: hers with a pseudonymous
    user id and no name, phone, email or traits; a row others share (a ``null`` userId
    an SDK sent for many people) without what she gave it."""
    removed = _count(cur.execute(
        "DELETE FROM customers WHERE list_contains(?::VARCHAR[], user_id)", [user_ids]))
    cur.execute("""
        CREATE OR REPLACE TEMP TABLE _pv_identify AS
        SELECT * FROM events
        WHERE type = 'identify' AND (rowid IN (SELECT rid FROM _pv_new)
                                     OR list_contains(?::VARCHAR[], user_id))""", [user_ids])
    apply_new_events(cur, "_pv_identify")
    cur.execute("DROP TABLE _pv_identify")
    return removed


def _count(result: Any) -> int:
    rows = result.fetchall()
    return int(rows[0][0]) if rows else 0
