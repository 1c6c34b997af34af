"""SQL that reads identity evidence out of the event log.

Every event belongs to one *record*: ``u:<userId>`` when it carries a usable
userId, else ``a:<anonymousId>``. The record is the unit the graph links and an
unmerge moves: every event, order and trait of a record follows its profile.
An event yields *observations* (identifier values as typed, normalised later
by the rules of :mod:`sen.identity.ids`), *field values* (name, birth date,
address…, the golden record's raw material) and the *device* it came from.

The log is read twice: :func:`ids_sql` reads the ids and device every event
carries, :func:`traits_sql` only the events that carry traits or an order's
contact. Each JSON document is parsed once for all the paths Sen reads, and
events that say the same thing (a visitor's hundred page views) are grouped
into one row with a count and a time span before any cleaning. The three
evidence tables are then cut from those smaller tables.
Only SQL text is built here; :mod:`sen.identity.resolver` runs it.
"""

from __future__ import annotations

from sen.identity.ids import PLACEHOLDER_IDS

ORDER_EVENTS = ("Order Completed", "Order Refunded", "Order Cancelled")
_PLACEHOLDERS = ", ".join(f"'{p}'" for p in sorted(PLACEHOLDER_IDS))

# (column, JSON path) read from each document. Traits come from identify
# events and from context.traits on any event (Segment's way of attaching what
# is known about the user); orders carry the buyer's contact.
_CONTEXT = (("device_id", "$.device.id"), ("device_type", "$.device.type"),
            ("push_token", "$.device.token"), ("c_phone", "$.traits.phone"),
            ("c_email", "$.traits.email"), ("c_zalo", "$.traits.zalo_id"),
            ("c_card", "$.traits.loyalty_card"), ("c_name", "$.traits.name"))
_TRAITS = (("t_phone", "$.phone"), ("t_email", "$.email"), ("t_zalo", "$.zalo_id"),
           ("t_card", "$.loyalty_card"), ("t_name", "$.name"), ("first_name", "$.first_name"),
           ("last_name", "$.last_name"), ("gender", "$.gender"), ("birth_date", "$.birth_date"),
           ("birthday", "$.birthday"), ("province", "$.province"), ("city", "$.city"),
           ("address", "$.address"), ("store_code", "$.store_code"))
_ORDER = (("o_phone", "$.phone"), ("o_email", "$.email"), ("o_buyer", "$.buyer_id"),
          ("o_market", "$.marketplace"), ("o_name", "$.customer_name"))


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


def _json(column: str, pairs: tuple[tuple[str, str], ...]) -> str:
    """All ``pairs``' paths of one JSON column, parsed once."""
    paths = ", ".join(f"'{p}'" for _, p in pairs)
    return f"json_extract_string({column}, [{paths}])"


def _pick(alias: str, pairs: tuple[tuple[str, str], ...]) -> str:
    return ", ".join(f"NULLIF(trim({alias}[{i + 1}]), '') AS {name}"
                     for i, (name, _) in enumerate(pairs))


def _records(grouped: str, columns: str) -> str:
    """Clean the ids of already grouped rows and name their records.

    Cleaning after grouping costs one regular expression per distinct id, not
    per event; rows that cleaning makes equal are grouped again.
    """
    return f"""
    SELECT record, source, {columns}, min(first_seen) AS first_seen,
           max(last_seen) AS last_seen, sum(n)::BIGINT AS n
    FROM (
        SELECT *, CASE WHEN uid IS NOT NULL THEN 'u:' || uid ELSE 'a:' || aid END AS record
        FROM (SELECT * EXCLUDE (user_id, anonymous_id, previous_id),
                     {clean_id("user_id")} AS uid, {clean_id("anonymous_id")} AS aid,
                     {clean_id("previous_id")} AS prev
              FROM ({grouped}))
    )
    WHERE record IS NOT NULL
    GROUP BY ALL
    """


def ids_sql(relation: str) -> str:
    """Per record, source and device: the ids every event carries, with span and count."""
    grouped = f"""
        SELECT user_id, anonymous_id, previous_id, source, {_pick("c", _CONTEXT[:3])},
               min(timestamp) AS first_seen, max(timestamp) AS last_seen, count(*) AS n
        FROM (SELECT user_id, anonymous_id, source, timestamp,
                     CASE WHEN type = 'alias' THEN previous_id END AS previous_id,
                     {_json("context", _CONTEXT[:3])} AS c
              FROM {relation})
        GROUP BY ALL"""
    return _records(grouped, "uid, aid, prev, device_id, device_type, push_token")


def traits_sql(relation: str) -> str:
    """Per record and source: the traits and order contacts events carry.

    Only identify calls, orders and events with ``context.traits`` are parsed.
    """
    orders = ", ".join(f"'{e}'" for e in ORDER_EVENTS)
    cols = [c for c, _ in _CONTEXT[3:] + _TRAITS + _ORDER]
    grouped = f"""
        SELECT user_id, anonymous_id, NULL::VARCHAR AS previous_id, source,
               {_pick("c", _CONTEXT[3:])}, {_pick("t", _TRAITS)}, {_pick("o", _ORDER)},
               min(timestamp) AS first_seen, max(timestamp) AS last_seen, count(*) AS n
        FROM (SELECT user_id, anonymous_id, source, timestamp,
                     {_json("context", _CONTEXT[3:])} AS c,
                     CASE WHEN type = 'identify' THEN {_json("traits", _TRAITS)} END AS t,
                     CASE WHEN type = 'track' AND event IN ({orders})
                          THEN {_json("properties", _ORDER)} END AS o
              FROM {relation}
              WHERE type = 'identify' OR (type = 'track' AND event IN ({orders}))
                 OR contains(CAST(context AS VARCHAR), '"traits"'))
        GROUP BY ALL"""
    return _records(grouped, ", ".join(cols))


def _unpivot(flat: str, pairs: list[tuple[str, str]], label: str, value: str) -> str:
    labels = ", ".join(f"'{k}'" for k, _ in pairs)
    values = ", ".join(v for _, v in pairs)
    return f"""
    SELECT record, {label}, {value}, source, min(first_seen) AS first_seen,
           max(last_seen) AS last_seen, sum(n)::BIGINT AS n
    FROM (SELECT record, source, first_seen, last_seen, n,
                 unnest([{labels}]) AS {label}, unnest([{values}]) AS {value} FROM {flat})
    WHERE {value} IS NOT NULL
    GROUP BY ALL
    """


def observations_sql(ids: str, traits: str) -> str:
    """``(record, id_type, raw, source, first_seen, last_seen, n)``: identifier
    values as typed (trimmed, not yet normalised)."""
    return _unpivot(ids, [
        ("user_id", "uid"), ("anonymous_id", "aid"),
        # alias: previousId may have been either kind of id.
        ("user_id", "prev"), ("anonymous_id", "prev"),
        ("device_id", "device_id"),
    ], "id_type", "raw") + " UNION ALL " + _unpivot(traits, [
        ("phone", "coalesce(t_phone, c_phone)"), ("email", "coalesce(t_email, c_email)"),
        ("zalo_id", "coalesce(t_zalo, c_zalo)"), ("loyalty_card", "coalesce(t_card, c_card)"),
        ("phone", "o_phone"), ("email", "o_email"),
        ("marketplace_buyer", "coalesce(o_market, source) || ':' || o_buyer"),
    ], "id_type", "raw")


def fields_sql(traits: str) -> str:
    """``(record, field, value, source, first_seen, last_seen, n)``: profile fields
    as typed, from traits and the customer name on orders."""
    return _unpivot(traits, [
        ("name", "coalesce(t_name, c_name)"), ("name", "o_name"),
        ("first_name", "first_name"), ("last_name", "last_name"), ("gender", "gender"),
        ("birth_date", "coalesce(birth_date, birthday)"),
        ("province", "coalesce(province, city)"), ("address", "address"),
        ("store_code", "store_code"),
    ], "field", "value")


def devices_sql(ids: str) -> str:
    """``(record, device_id, device_type, push_token, last_seen)``: the devices and
    browsers a record was seen on, and the push token each one gave last."""
    return f"""
    SELECT record, device_id, any_value(lower(device_type)) AS device_type,
           arg_max(push_token, last_seen) FILTER (WHERE push_token IS NOT NULL) AS push_token,
           max(last_seen) AS last_seen
    FROM (SELECT record, coalesce(device_id, 'anon:' || aid) AS device_id, device_type,
                 push_token, last_seen FROM {ids}
          WHERE device_id IS NOT NULL OR device_type IS NOT NULL)
    WHERE device_id IS NOT NULL
    GROUP BY record, device_id
    """
