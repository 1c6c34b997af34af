"""SQL that reads identity evidence out of the event log.

Every event belongs to one *record*: ``u:<userId>`` when it carries a usable
userId, else ``a:<anonymousId>``. The record is the unit the graph links and an
unmerge moves: every event, order and trait of a record follows its profile.
An event yields *observations* (identifier values as typed, normalised later
in Python by the rules of :mod:`sen.identity.ids`) and *field values* (name,
birth date, address…, the golden record's raw material).

Only SQL text is built here; :mod:`sen.identity.resolver` runs it.
"""

from __future__ import annotations

from sen.identity.ids import PLACEHOLDER_IDS

_PLACEHOLDERS = ", ".join(f"'{p}'" for p in sorted(PLACEHOLDER_IDS))


def clean_id(column: str) -> str:
    """SQL for :func:`sen.identity.ids.normalise_opaque`: the trimmed id, or NULL
    for a placeholder or an id with spaces or control characters."""
    t = f"trim({column})"
    return (f"CASE WHEN {column} IS NULL OR lower({t}) IN ({_PLACEHOLDERS}) "
            f"OR regexp_matches({t}, '[\\s\\x00-\\x1f\\x7f]') THEN NULL ELSE {t} END")


def record_key(user_id: str = "user_id", anonymous_id: str = "anonymous_id") -> str:
    """SQL for the record an event or order row belongs to (NULL when it has no id)."""
    uid, aid = clean_id(user_id), clean_id(anonymous_id)
    return f"CASE WHEN ({uid}) IS NOT NULL THEN 'u:' || ({uid}) ELSE 'a:' || ({aid}) END"


# (identifier type, SQL for its raw value) read from each event. Traits come from
# identify events and from context.traits on any event (Segment's way of
# attaching what is known about the user); orders carry the buyer's contact.
_TRAIT_IDS = (("phone", "phone"), ("email", "email"), ("zalo_id", "zalo_id"),
              ("loyalty_card", "loyalty_card"))
_FIELDS = ("name", "first_name", "last_name", "gender", "birth_date", "birthday", "province",
           "city", "address", "store_code")


def _unnest(pairs: list[tuple[str, str]]) -> str:
    keys = ", ".join(f"'{k}'" for k, _ in pairs)
    values = ", ".join(v for _, v in pairs)
    return f"unnest([{keys}]) AS id_type, unnest([{values}]) AS raw"


def _trait(key: str) -> str:
    return (f"coalesce(CASE WHEN type = 'identify' THEN traits ->> '{key}' END, "
            f"context -> 'traits' ->> '{key}')")


def observations_sql(relation: str) -> str:
    """``(record, id_type, raw, source, first_seen, last_seen)`` from ``relation``.

    Raw values are trimmed strings, not yet normalised; one row per distinct
    (record, type, raw, source).
    """
    pairs = [
        ("user_id", clean_id("user_id")),
        ("anonymous_id", clean_id("anonymous_id")),
        # alias: previousId may have been either kind of id.
        ("user_id", f"CASE WHEN type = 'alias' THEN {clean_id('previous_id')} END"),
        ("anonymous_id", f"CASE WHEN type = 'alias' THEN {clean_id('previous_id')} END"),
        ("device_id", "context -> 'device' ->> 'id'"),
        *((t, _trait(k)) for t, k in _TRAIT_IDS),
        ("phone", "CASE WHEN type = 'track' THEN properties ->> 'phone' END"),
        ("email", "CASE WHEN type = 'track' THEN properties ->> 'email' END"),
        ("marketplace_buyer",
         "CASE WHEN type = 'track' AND properties ->> 'buyer_id' IS NOT NULL THEN "
         "coalesce(properties ->> 'marketplace', source) || ':' "
         "|| (properties ->> 'buyer_id') END"),
    ]
    return f"""
    SELECT record, id_type, trim(raw) AS raw, source,
           min(timestamp) AS first_seen, max(timestamp) AS last_seen, count(*) AS n
    FROM (
        SELECT {record_key()} AS record, source, timestamp, {_unnest(pairs)}
        FROM {relation}
    )
    WHERE record IS NOT NULL AND raw IS NOT NULL AND trim(raw) <> ''
    GROUP BY ALL
    """


def fields_sql(relation: str) -> str:
    """``(record, field, value, source, first_seen, last_seen, n)``: profile fields
    as typed, from identify traits and the customer name on orders."""
    pairs = [(f, _trait(f)) for f in _FIELDS]
    pairs.append(("name", "CASE WHEN type = 'track' THEN properties ->> 'customer_name' END"))
    return f"""
    SELECT record, CASE field WHEN 'birthday' THEN 'birth_date' WHEN 'city' THEN 'province'
                              ELSE field END AS field,
           trim(raw) AS value, source,
           min(timestamp) AS first_seen, max(timestamp) AS last_seen, count(*) AS n
    FROM (
        SELECT {record_key()} AS record, source, timestamp,
               unnest([{", ".join(f"'{k}'" for k, _ in pairs)}]) AS field,
               unnest([{", ".join(v for _, v in pairs)}]) AS raw
        FROM {relation}
    )
    WHERE record IS NOT NULL AND raw IS NOT NULL AND trim(raw) <> ''
    GROUP BY ALL
    """


def devices_sql(relation: str) -> str:
    """``(record, device_id, device_type, push_token, last_seen)``: the devices and
    browsers a record was seen on, and the push token each one gave."""
    return f"""
    SELECT record, device_id, any_value(device_type) AS device_type,
           arg_max(push_token, timestamp) AS push_token, max(timestamp) AS last_seen
    FROM (
        SELECT {record_key()} AS record, timestamp,
               coalesce(context -> 'device' ->> 'id', 'anon:' || anonymous_id) AS device_id,
               lower(context -> 'device' ->> 'type') AS device_type,
               NULLIF(trim(context -> 'device' ->> 'token'), '') AS push_token
        FROM {relation}
        WHERE (context -> 'device') IS NOT NULL OR (context ->> 'userAgent') IS NOT NULL
    )
    WHERE record IS NOT NULL AND device_id IS NOT NULL
    GROUP BY record, device_id
    """
