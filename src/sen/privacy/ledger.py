"""The record that a request was carried out (``privacy_requests``), without her data.

A row says what was done (export or erase), to which profile, by whom and when,
and how many rows of each table it read or changed. Records are kept as
fingerprints (``u:`` + 16 hex digits of md5 of the record), as profile ids are
made: enough to answer "was record u:KH0001 erased?" for someone who already
knows it, never a way to read her userId, phone or name back.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa

from sen.store.operational import privacy_requests

EXPORT, ERASE = "export", "erase"


def fingerprint(record: str) -> str:
    """``u:3f2a…`` for ``u:KH0001``: the record's kind and a digest of it."""
    kind = record.partition(":")[0] or "?"
    return f"{kind}:{hashlib.md5(record.encode()).hexdigest()[:16]}"


def write(con: sa.Connection, *, kind: str, profile_id: str, records: Iterable[str],
          summary: Mapping[str, Any], actor: str | None, now: datetime) -> int:
    """Append one request inside the caller's transaction; its id."""
    result = con.execute(sa.insert(privacy_requests).values(
        kind=kind, profile_id=profile_id,
        records=orjson.dumps(sorted(fingerprint(r) for r in records)).decode(),
        summary=orjson.dumps(dict(summary), option=orjson.OPT_SORT_KEYS).decode(),
        requested_by=actor, done_at=now))
    return int(result.inserted_primary_key[0])


def erased_at(ops: sa.Engine, profile_id: str) -> datetime | None:
    """When ``profile_id`` was first erased (as the profile, or asked for by that id)."""
    t = privacy_requests
    with ops.connect() as con:
        rows = con.execute(sa.select(t.c.profile_id, t.c.summary, t.c.done_at)
                           .where(t.c.kind == ERASE,
                                  sa.or_(t.c.profile_id == profile_id,
                                         t.c.summary.contains(f'"{profile_id}"')))
                           .order_by(t.c.done_at)).all()
    for row in rows:
        if row.profile_id == profile_id or \
                orjson.loads(row.summary).get("requested") == profile_id:
            return row.done_at
    return None


def requests(ops: sa.Engine, profile_id: str | None = None) -> list[dict[str, Any]]:
    """Requests carried out, newest first (all, or those of one profile)."""
    t = privacy_requests
    query = sa.select(t).order_by(t.c.done_at.desc(), t.c.id.desc())
    if profile_id is not None:
        query = query.where(t.c.profile_id == profile_id)
    with ops.connect() as con:
        return [{**{str(k): v for k, v in row._mapping.items()},
                 "records": orjson.loads(row.records), "summary": orjson.loads(row.summary)}
                for row in con.execute(query).all()]
