"""Reading profiles: look-up by any identifier, search, and the customer 360.

Everything a hotline agent or a marketer sees about one customer comes from
here: the golden record, every identifier and field value with where and when
it was seen, the events and orders of all of the profile's records, and the
merge history. Events and orders are never rewritten: they reach a profile
through the record they belong to (:func:`sen.identity.extract.record_key`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sen.errors import NotFoundError
from sen.identity import extract
from sen.identity.ids import IdentifierType, Normalised, normalise
from sen.identity.names import fold_name

PROFILE_COLUMNS = (
    "profile_id", "record", "name", "gender", "birth_date", "province", "address", "store_code",
    "phone", "email", "zalo_id", "loyalty_card", "identified", "records", "user_ids",
    "sources", "first_seen", "last_seen", "anonymous_since", "identified_at", "devices",
    "browsers", "web_push_tokens", "app_push_tokens",
)
_POINT_READS = 20
_SUMMARY = ("profile_id", "name", "phone", "email", "province", "identified", "records",
            "last_seen")


def _rows(cur: Any, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    result = cur.execute(sql, params or [])
    names = [d[0] for d in result.description]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def normalised_value(id_type: IdentifierType | str, raw: str) -> str | None:
    """The canonical form of a typed identifier, or None when it cannot be a key."""
    t = IdentifierType(id_type)
    if t in (IdentifierType.USER_ID, IdentifierType.ANONYMOUS_ID):
        return raw.strip() or None
    result = normalise(t, raw)
    return result.value if isinstance(result, Normalised) else None


def lookup(cur: Any, id_type: IdentifierType | str, raw: str) -> list[dict[str, Any]]:
    """Profiles holding an identifier, as typed by a person (``0912 345 678``).

    A shared value (a family's phone) returns every profile that carries it.
    Point reads on the store's indexes: the value (alone, so its index serves
    the read), each carrier record's profile, each profile's golden record.
    Beyond a handful of carriers (a shop's phone typed for a thousand
    customers) one scan is cheaper than many reads.
    """
    value = normalised_value(id_type, raw)
    if value is None:
        return []
    id_type = str(IdentifierType(id_type))
    carriers = sorted({r for r, t in cur.execute(
        "SELECT record, id_type FROM identity_observations WHERE value = ?", [value]
    ).fetchall() if t == id_type})
    if not carriers:
        return []
    cols = ", ".join(_SUMMARY)
    if len(carriers) > _POINT_READS:  # a shared value: one scan beats many reads
        return _rows(cur, f"""
            SELECT {cols} FROM profiles WHERE profile_id IN (
                SELECT profile_id FROM identity_profiles WHERE list_contains(?, record))
            ORDER BY last_seen DESC NULLS LAST, profile_id""", [carriers])
    pids = sorted({r[0] for record in carriers for r in cur.execute(
        "SELECT profile_id FROM identity_profiles WHERE record = ?", [record]).fetchall()})
    found = [row for pid in pids
             for row in _rows(cur, f"SELECT {cols} FROM profiles WHERE profile_id = ?", [pid])]
    return sorted(found, key=lambda p: (p["last_seen"] is None,
                                        -(p["last_seen"].timestamp() if p["last_seen"] else 0),
                                        p["profile_id"]))


def search(cur: Any, query: str, limit: int = 50) -> list[dict[str, Any]]:
    """Profiles by phone, email or name (every word of the query, diacritics aside)."""
    query = query.strip()
    if not query:
        return []
    if "@" in query:
        return lookup(cur, IdentifierType.EMAIL, query)[:limit]
    if sum(c.isdigit() for c in query) >= 8:
        found = lookup(cur, IdentifierType.PHONE, query)
        return found[:limit] if found else lookup(cur, IdentifierType.USER_ID, query)[:limit]
    words = fold_name(query).split()
    if not words:
        return []
    cond = " AND ".join("contains(' ' || name_folded || ' ', ?)" for _ in words)
    cols = ", ".join(_SUMMARY)
    return _rows(cur, f"""
        SELECT {cols} FROM profiles WHERE {cond}
        ORDER BY identified DESC, last_seen DESC NULLS LAST, profile_id LIMIT {int(limit)}
    """, [f" {w} " for w in words])


def current_id(cur: Any, profile_id: str) -> str | None:
    """Where a profile id lives now: itself, or the profile it was merged into."""
    seen = set()
    while profile_id not in seen:
        seen.add(profile_id)
        if cur.execute("SELECT 1 FROM profiles WHERE profile_id = ?",
                       [profile_id]).fetchall():
            return profile_id
        nxt = cur.execute("""
            SELECT profile_id FROM identity_merge_log
            WHERE action = 'merged' AND list_contains(other_profiles, ?) AND profile_id <> ?
            ORDER BY logged_at DESC LIMIT 1""", [profile_id, profile_id]).fetchall()
        if not nxt:
            return None
        profile_id = nxt[0][0]
    return None


def profile(cur: Any, profile_id: str) -> dict[str, Any]:
    """The golden record of one profile; :class:`NotFoundError` if there is none."""
    rows = _rows(cur, f"SELECT {', '.join(PROFILE_COLUMNS)} FROM profiles WHERE profile_id = ?",
                 [profile_id])
    if not rows:
        raise NotFoundError(f"There is no profile {profile_id!r}.",
                            hint="Look the customer up by phone, email or name instead.")
    return rows[0]


def records(cur: Any, profile_id: str) -> list[str]:
    return [r[0] for r in cur.execute(
        "SELECT record FROM identity_profiles WHERE profile_id = ? ORDER BY record",
        [profile_id]).fetchall()]


def identifiers(cur: Any, profile_id: str) -> list[dict[str, Any]]:
    """Every identifier of the profile's records, as typed and as normalised.

    ``status`` says whether it links (``linking``), is a shared value that
    links nobody (``shared``), was blocked by a person (``blocked``), or was
    rejected by the normaliser (``rejected``, with the reason).
    """
    return _rows(cur, """
        SELECT o.id_type, o.value, o.raw, o.record, o.source, min(o.first_seen) AS first_seen,
               max(o.last_seen) AS last_seen, sum(o.n)::BIGINT AS n,
               CASE WHEN o.value IS NULL THEN 'rejected'
                    WHEN EXISTS (SELECT 1 FROM identity_overrides v WHERE v.kind = 'block'
                                 AND v.active AND v.id_type = o.id_type AND v.value = o.value)
                    THEN 'blocked'
                    WHEN EXISTS (SELECT 1 FROM identity_shared s
                                 WHERE s.id_type = o.id_type AND s.value = o.value)
                    THEN 'shared' ELSE 'linking' END AS status,
               n.reason
        FROM identity_observations o JOIN identity_profiles p USING (record)
        LEFT JOIN identity_normal n ON n.id_type = o.id_type AND n.raw = o.raw
        WHERE p.profile_id = ?
        GROUP BY ALL
        ORDER BY o.id_type, o.value NULLS LAST, o.raw, o.record, o.source
    """, [profile_id])


def field_history(cur: Any, profile_id: str) -> list[dict[str, Any]]:
    """Every value every field ever had on the profile's records: nothing a merge
    chose against is lost."""
    return _rows(cur, """
        SELECT f.field, f.value, f.record, f.source, min(f.first_seen) AS first_seen,
               max(f.last_seen) AS last_seen, sum(f.n)::BIGINT AS n
        FROM identity_fields f JOIN identity_profiles p USING (record)
        WHERE p.profile_id = ?
        GROUP BY ALL
        ORDER BY f.field, last_seen DESC, f.value, f.record, f.source
    """, [profile_id])


def merge_history(cur: Any, profile_id: str) -> list[dict[str, Any]]:
    return _rows(cur, """
        SELECT logged_at, action, profile_id, other_profiles, records, cause, actor
        FROM identity_merge_log
        WHERE profile_id = ? OR list_contains(other_profiles, ?)
        ORDER BY logged_at DESC, action LIMIT 200
    """, [profile_id, profile_id])


def person_links(cur: Any, profile_id: str) -> list[dict[str, Any]]:
    """Active links a person made between this profile's records and others."""
    return _rows(cur, """
        SELECT v.decided_at, v.record_a, v.record_b, v.actor, v.note
        FROM identity_overrides v
        WHERE v.kind = 'link' AND v.active AND (
            v.record_a IN (SELECT record FROM identity_profiles WHERE profile_id = ?)
            OR v.record_b IN (SELECT record FROM identity_profiles WHERE profile_id = ?))
        ORDER BY v.decided_at DESC, v.record_a, v.record_b""", [profile_id, profile_id])


def _belongs(cur: Any, profile_id: str) -> tuple[str, list[Any]]:
    """A filter for rows (events, orders) of the profile's records, and its parameters.

    Raw ids are compared first (cheap, and most rows fail it); only rows that
    pass pay for the exact record key, whose cleaning runs a regular expression.
    """
    recs = records(cur, profile_id)
    uids = [r[2:] for r in recs if r.startswith("u:")]
    aids = [r[2:] for r in recs if r.startswith("a:")]
    sql = (f"(list_contains(?, trim(user_id)) OR list_contains(?, trim(anonymous_id))) "
           f"AND list_contains(?, {extract.record_key()})")
    return sql, [uids, aids, recs]


def events(cur: Any, profile_id: str, *, limit: int = 100, before: datetime | None = None,
           before_id: str | None = None, names: list[str] | None = None
           ) -> list[dict[str, Any]]:
    """The profile's timeline, newest first, across every source.

    Page with ``before`` (a timestamp) and ``before_id`` (the message id of the
    last event shown), so events sharing a timestamp are never skipped.
    ``names`` keeps only events of those names (``Message Sent``…).
    """
    belongs, params = _belongs(cur, profile_id)
    where = [belongs]
    if before is not None:
        where.append("(e.timestamp, e.message_id) < (?, ?)" if before_id is not None
                     else "e.timestamp < ?")
        params += [before, before_id] if before_id is not None else [before]
    if names:
        where.append("list_contains(?, coalesce(e.event, e.name))")
        params.append(list(names))
    return _rows(cur, f"""
        SELECT e.timestamp, e.type, coalesce(e.event, e.name) AS event, e.source, e.message_id,
               e.user_id, e.anonymous_id, CAST(e.properties AS VARCHAR) AS properties,
               CAST(e.traits AS VARCHAR) AS traits
        FROM events e WHERE {" AND ".join(where)}
        ORDER BY e.timestamp DESC, e.message_id DESC LIMIT {int(limit)}
    """, params)


def orders(cur: Any, profile_id: str, *, limit: int = 100) -> list[dict[str, Any]]:
    """The profile's orders in every channel, newest first."""
    belongs, params = _belongs(cur, profile_id)
    return _rows(cur, f"""
        SELECT order_id, ordered_at, channel, source, store_code, status, total, item_count,
               coupon
        FROM orders WHERE {belongs}
        ORDER BY ordered_at DESC, order_id LIMIT {int(limit)}
    """, params)
