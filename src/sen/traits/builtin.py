"""SQL of the built-in traits, over the scope tables the runner prepares.

Every statement reads ``_trait_orders`` / ``_trait_lines`` (a scope's orders
and order lines, already keyed by profile) and writes one temp table keyed by
``profile_id``; :mod:`sen.traits.runner` joins them. A full refresh and an
incremental update run the same statements over a different scope, which is
why they agree.

Definitions (docs/traits.md):

* a *purchase* is a completed order; refunded orders are *returns*, cancelled
  ones count for nothing;
* spend is the order total (integer VND), after discounts;
* *favourites* are the most frequent value (items bought for brand, category
  and size; orders for the store), ties going to the most recent, then to
  the alphabetically first;
* a *purchase day* is a day with at least one purchase: the models count
  days, not orders, so a split basket is one purchase.
"""

from __future__ import annotations

from sen.identity.extract import record_key

CHANNELS = ("store", "web", "app", "marketplace")

_CHANNEL_WORDS = {
    "store": ("store", "pos", "offline", "retail", "shop", "cửa hàng"),
    "web": ("web", "website", "online", "ecommerce", "e-commerce", "webshop"),
    "app": ("app", "mobile", "mobile_app", "ios", "android"),
    "marketplace": ("marketplace", "shopee", "lazada", "tiktok", "tiktok_shop", "tiki", "sendo"),
}


def channel_sql(column: str) -> str:
    """SQL for a sales channel folded to store / web / app / marketplace.

    Exports name channels their own way; anything not recognised is kept,
    lower-cased, so nothing is silently relabelled.
    """
    folded = f"lower(trim({column}))"
    arms = " ".join(
        f"WHEN {folded} IN ({', '.join(repr(w) for w in words)}) THEN '{name}'"
        for name, words in _CHANNEL_WORDS.items())
    return f"CASE {arms} ELSE NULLIF({folded}, '') END"


def scope_orders_sql(*, everyone: bool) -> str:
    """The scope's orders up to ``as_of`` (parameter 1), keyed by profile.

    For part of the profiles, orders are first narrowed by their trimmed ids
    (a superset of the scope's records, and cheap), so the exact record key is
    computed for a few orders rather than all of them.
    """
    narrow = "" if everyone else """
        AND (trim(user_id) IN (SELECT substr(record, 3) FROM _trait_records
                               WHERE starts_with(record, 'u:'))
             OR trim(anonymous_id) IN (SELECT substr(record, 3) FROM _trait_records
                                       WHERE starts_with(record, 'a:')))"""
    return f"""
        CREATE OR REPLACE TEMP TABLE _trait_orders AS
        WITH o AS MATERIALIZED (
            SELECT *, {record_key()} AS record FROM orders WHERE ordered_at <= ? {narrow}
        )
        SELECT r.pk, r.profile_id, o.order_id, o.source,
               {channel_sql('o.channel')} AS channel, o.store_code, o.ordered_at, o.status,
               o.subtotal, o.discount, o.shipping, o.total, o.coupon, o.item_count
        FROM o JOIN _trait_records r USING (record)
    """


# A view: only user-defined traits over order lines read every column of it.
SCOPE_LINES = """
    CREATE OR REPLACE TEMP VIEW _trait_lines AS
    SELECT o.pk, o.profile_id, o.order_id, o.ordered_at, o.channel, o.store_code, o.status,
           i.product_id, i.sku, i.name, i.brand, i.category, i.size, i.colour, i.quantity,
           i.price, i.discount, i.coupon,
           coalesce(i.price, 0) * coalesce(i.quantity, 1) - coalesce(i.discount, 0) AS amount
    FROM order_items i JOIN _trait_orders o USING (order_id)
"""

# The scope's orders and lines as segments' order conditions read them
# (``profile_orders``, ``profile_order_lines``), sorted by time so windows prune.
ORDERS_BY_PROFILE = """
    INSERT INTO profile_orders
    SELECT profile_id, order_id, ordered_at, status, source, channel, store_code, subtotal,
           discount, shipping, total, coupon, item_count
    FROM _trait_orders ORDER BY ordered_at
"""
LINES_BY_PROFILE = """
    INSERT INTO profile_order_lines
    SELECT o.profile_id, o.order_id, o.ordered_at, o.status, o.channel, o.store_code,
           i.brand, i.category, i.size,
           i.colour, i.sku, i.product_id, i.name, i.quantity, i.price,
           coalesce(i.price, 0) * coalesce(i.quantity, 1) - coalesce(i.discount, 0)
    FROM order_items i JOIN _trait_orders o USING (order_id) ORDER BY o.ordered_at
"""

# What favourites and item counts need of the purchased lines, narrow and integer-keyed.
PURCHASED_LINES = """
    CREATE OR REPLACE TEMP TABLE _trait_bought AS
    SELECT o.pk, o.ordered_at, i.brand, i.category, i.size,
           coalesce(i.quantity, 1) AS quantity
    FROM order_items i JOIN _trait_orders o USING (order_id)
    WHERE o.status = 'completed'
"""

# Parameters: as_of, recent_days.
ORDER_AGGREGATES = """
    CREATE OR REPLACE TEMP TABLE _trait_agg AS
    SELECT pk,
           count(*) FILTER (WHERE status = 'completed') AS orders,
           coalesce(sum(total) FILTER (WHERE status = 'completed'), 0) AS spend,
           count(*) FILTER (WHERE status = 'completed'
                            AND ordered_at > $1 - to_days($2)) AS orders_12m,
           coalesce(sum(total) FILTER (WHERE status = 'completed'
                                       AND ordered_at > $1 - to_days($2)), 0) AS spend_12m,
           min(ordered_at) FILTER (WHERE status = 'completed') AS first_purchase_at,
           arg_min_null(channel, (ordered_at, order_id)) FILTER (WHERE status = 'completed')
               AS first_purchase_channel,
           arg_min_null(store_code, (ordered_at, order_id)) FILTER (WHERE status = 'completed')
               AS first_purchase_store,
           max(ordered_at) FILTER (WHERE status = 'completed') AS last_purchase_at,
           arg_max_null(channel, (ordered_at, order_id)) FILTER (WHERE status = 'completed')
               AS last_purchase_channel,
           arg_max_null(store_code, (ordered_at, order_id)) FILTER (WHERE status = 'completed')
               AS last_purchase_store,
           list(DISTINCT channel ORDER BY channel)
               FILTER (WHERE status = 'completed' AND channel IS NOT NULL) AS channels,
           count(*) FILTER (WHERE status = 'refunded') AS returned_orders
    FROM _trait_orders GROUP BY pk
"""

# One row per buyer: what the BG/NBD and Gamma-Gamma models and the stages need.
# Parameter: as_of.
PURCHASE_DAYS = """
    CREATE OR REPLACE TEMP TABLE _trait_days AS
    WITH d AS (
        SELECT pk, ordered_at::DATE AS day, sum(total) AS total
        FROM _trait_orders WHERE status = 'completed' GROUP BY ALL
    ), ranked AS (
        SELECT *, row_number() OVER (PARTITION BY pk ORDER BY day DESC) AS back
        FROM d
    )
    SELECT pk, count(*) AS purchase_days,
           min(day) AS first_day, max(day) AS last_day,
           max(day) FILTER (WHERE back = 2) AS previous_day,
           sum(total) AS day_total, arg_min(total, day) AS first_day_total
    FROM ranked GROUP BY pk
"""

ITEMS = """
    CREATE OR REPLACE TEMP TABLE _trait_items AS
    SELECT pk, sum(quantity)::INTEGER AS items FROM _trait_bought GROUP BY pk
"""


def favourite_sql(name: str, column: str, relation: str, weight: str, where: str = "") -> str:
    """The most frequent ``column`` per profile among purchases; recent, then A-Z, wins ties."""
    return f"""
        CREATE OR REPLACE TEMP TABLE _trait_fav_{name} AS
        SELECT pk, arg_max(v, (n, last, -rank_az)) AS favourite_{name}
        FROM (
            SELECT pk, v, n, last,
                   dense_rank() OVER (PARTITION BY pk ORDER BY v) AS rank_az
            FROM (
                SELECT pk, {column} AS v, sum({weight}) AS n, max(ordered_at) AS last
                FROM {relation}
                WHERE {where} {column} IS NOT NULL AND trim({column}) <> ''
                GROUP BY ALL
            )
        )
        GROUP BY pk
    """


FAVOURITES = (
    favourite_sql("brand", "brand", "_trait_bought", "quantity"),
    favourite_sql("category", "category", "_trait_bought", "quantity"),
    favourite_sql("size", "size", "_trait_bought", "quantity"),
    favourite_sql("store", "store_code", "_trait_orders", "1", "status = 'completed' AND"),
)

PERIODS = """
    INSERT INTO profile_trait_periods
    SELECT s.profile_id, p.period, p.orders, p.spend
    FROM (
        SELECT pk, period, count(*)::INTEGER AS orders, sum(coalesce(total, 0)) AS spend
        FROM (
            SELECT pk, total, strftime(ordered_at, '%Y') AS period
            FROM _trait_orders WHERE status = 'completed'
            UNION ALL
            SELECT pk, total, strftime(ordered_at, '%Y-%m')
            FROM _trait_orders WHERE status = 'completed'
        )
        GROUP BY ALL
    ) p JOIN _trait_scope s USING (pk)
"""

ENGAGEMENT_EVENTS = ("Message Clicked", "Message Opened")


def engagement_sql() -> str:
    """Each profile's preferred messaging channel: most clicks, then opens, then recent.

    Parameter: as_of. Reads ``Message Clicked`` / ``Message Opened`` events
    with ``properties.channel``; a profile with none has no preference.
    """
    events = ", ".join(f"'{e}'" for e in ENGAGEMENT_EVENTS)
    return f"""
        CREATE OR REPLACE TEMP TABLE _trait_engage AS
        WITH e AS MATERIALIZED (
            SELECT {record_key()} AS record, event,
                   NULLIF(lower(trim(json_extract_string(properties, '$.channel'))), '') AS ch,
                   timestamp
            FROM events
            WHERE type = 'track' AND event IN ({events}) AND timestamp <= $1
        ), per_channel AS (
            SELECT r.pk, e.ch,
                   count(*) FILTER (WHERE e.event = 'Message Clicked') AS clicks,
                   count(*) FILTER (WHERE e.event = 'Message Opened') AS opens,
                   max(e.timestamp) AS last
            FROM e JOIN _trait_records r USING (record)
            WHERE e.ch IS NOT NULL GROUP BY ALL
        )
        SELECT pk, arg_max(ch, (clicks, opens, last)) AS preferred_channel
        FROM per_channel GROUP BY pk
    """


CONSENT_EVENTS = ("Consent Granted", "Consent Revoked")


def consent_sql() -> str:
    """The channels on which each profile's latest advertising consent, as of ``as_of``,
    is a grant (from the ``Consent Granted`` / ``Consent Revoked`` events messaging
    writes for every change, whatever its source). A profile that never said has
    an empty list; segments and exports read it as a trait.

    Parameter: as_of.
    """
    events = ", ".join(f"'{e}'" for e in CONSENT_EVENTS)
    return f"""
        CREATE OR REPLACE TEMP TABLE _trait_consent AS
        WITH e AS MATERIALIZED (
            SELECT {record_key()} AS record, event, timestamp,
                   json_extract_string(properties, ['$.channel', '$.purpose']) AS cp
            FROM events
            WHERE type = 'track' AND event IN ({events}) AND timestamp <= $1
        ), latest AS (
            SELECT r.pk, e.cp[1] AS ch, arg_max(e.event, e.timestamp) AS last_event
            FROM e JOIN _trait_records r USING (record)
            WHERE e.cp[2] = 'advertising' AND e.cp[1] IS NOT NULL
            GROUP BY ALL
        )
        SELECT pk, list_sort(list(ch) FILTER (WHERE last_event = 'Consent Granted'))
                   AS consented_channels
        FROM latest GROUP BY pk
    """


# Parameters: as_of. The golden record's facts, with the region table joined.
PEOPLE = """
    CREATE OR REPLACE TEMP TABLE _trait_people AS
    SELECT s.pk, p.birth_date, p.store_code AS home_store,
           p.province AS stated_province,
           CASE WHEN p.birth_date IS NULL THEN NULL
                ELSE datesub('year', p.birth_date, $1::DATE) END AS age,
           list_value(
               CASE WHEN p.phone IS NOT NULL THEN 'sms' END,
               CASE WHEN p.zalo_id IS NOT NULL THEN 'zalo' END,
               CASE WHEN p.email IS NOT NULL THEN 'email' END,
               CASE WHEN coalesce(p.web_push_tokens, 0) + coalesce(p.app_push_tokens, 0) > 0
                    THEN 'push' END
           ).list_filter(lambda c: c IS NOT NULL) AS reachable_channels
    FROM profiles p JOIN _trait_scope s USING (profile_id)
"""

AGE_BANDS = ((18, "under 18"), (25, "18-24"), (35, "25-34"), (45, "35-44"), (55, "45-54"),
             (65, "55-64"))
OLDEST_AGE, YOUNGEST_AGE = 100, 10


def age_band_sql(age: str) -> str:
    arms = " ".join(f"WHEN {age} < {upper} THEN '{label}'" for upper, label in AGE_BANDS)
    return f"CASE WHEN {age} IS NULL THEN NULL {arms} ELSE '65+' END"


def valid_age_sql(age: str) -> str:
    """Ages outside 10-100 are data-entry mistakes (a birth year of 1900, or this year)."""
    return f"CASE WHEN {age} BETWEEN {YOUNGEST_AGE} AND {OLDEST_AGE} THEN {age} END"


# Everything but the model outputs, one row per profile in scope, numbered.
# Parameter: as_of.
BASE = f"""
    CREATE OR REPLACE TEMP TABLE _trait_base AS
    SELECT s.pk AS rn, s.profile_id,
           coalesce(a.orders, 0)::INTEGER AS orders, coalesce(a.spend, 0)::BIGINT AS spend,
           CASE WHEN a.orders > 0 THEN round(a.spend / a.orders)::BIGINT END AS aov,
           coalesce(a.orders_12m, 0)::INTEGER AS orders_12m,
           coalesce(a.spend_12m, 0)::BIGINT AS spend_12m,
           coalesce(i.items, 0)::INTEGER AS items,
           a.first_purchase_at, a.first_purchase_channel, a.first_purchase_store,
           a.last_purchase_at, a.last_purchase_channel, a.last_purchase_store,
           date_diff('day', a.last_purchase_at::DATE, $1::DATE)::INTEGER
               AS days_since_last_purchase,
           fb.favourite_brand, fs.favourite_store, fc.favourite_category, fz.favourite_size,
           coalesce(rp.province, rh.province, rf.province) AS province,
           coalesce(rp.region, rh.region, rf.region) AS region,
           {valid_age_sql('p.age')}::INTEGER AS age,
           {age_band_sql(valid_age_sql('p.age'))} AS age_band,
           coalesce(a.channels, []) AS channels,
           coalesce(list_contains(a.channels, 'store')
                    AND len(list_filter(a.channels, lambda c: c <> 'store')) > 0, false)
               AS omnichannel,
           e.preferred_channel, p.reachable_channels,
           coalesce(a.returned_orders, 0)::INTEGER AS returned_orders,
           CASE WHEN coalesce(a.orders, 0) + coalesce(a.returned_orders, 0) > 0
                THEN a.returned_orders / (a.orders + a.returned_orders) END AS returns_rate,
           coalesce(d.purchase_days, 0) AS purchase_days,
           coalesce(date_diff('day', d.first_day, d.last_day), 0) AS t_x,
           coalesce(date_diff('day', d.first_day, $1::DATE), 0) AS age_days,
           CASE WHEN d.purchase_days > 1
                THEN (d.day_total - d.first_day_total) / (d.purchase_days - 1) ELSE 0 END
               AS repeat_value,
           date_diff('day', d.previous_day, d.last_day) AS previous_gap,
           d.last_day, coalesce(cs.consented_channels, []) AS consented_channels
    FROM _trait_scope s
    LEFT JOIN _trait_agg a USING (pk)
    LEFT JOIN _trait_items i USING (pk)
    LEFT JOIN _trait_days d USING (pk)
    LEFT JOIN _trait_fav_brand fb USING (pk)
    LEFT JOIN _trait_fav_store fs USING (pk)
    LEFT JOIN _trait_fav_category fc USING (pk)
    LEFT JOIN _trait_fav_size fz USING (pk)
    LEFT JOIN _trait_engage e USING (pk)
    LEFT JOIN _trait_consent cs USING (pk)
    LEFT JOIN _trait_people p USING (pk)
    LEFT JOIN _trait_regions rp ON rp.raw = p.stated_province
    LEFT JOIN stores hs ON hs.store_code = p.home_store
    LEFT JOIN _trait_regions rh ON rh.raw = hs.province
    LEFT JOIN stores fst ON fst.store_code = fs.favourite_store
    LEFT JOIN _trait_regions rf ON rf.raw = fst.province
"""

RAW_PROVINCES = """
    SELECT DISTINCT province FROM (
        SELECT p.province FROM profiles p JOIN _trait_scope s USING (profile_id)
        UNION ALL SELECT province FROM stores
    ) WHERE province IS NOT NULL
"""

# Parameters: as_of, computed_at.
WRITE = """
    INSERT INTO profile_traits
    SELECT b.profile_id, $1, $2, b.orders, b.spend, b.aov, b.orders_12m, b.spend_12m, b.items,
           b.first_purchase_at, b.first_purchase_channel, b.first_purchase_store,
           b.last_purchase_at, b.last_purchase_channel, b.last_purchase_store,
           b.days_since_last_purchase,
           b.favourite_brand, b.favourite_store, b.favourite_category, b.favourite_size,
           b.province, b.region, b.age, b.age_band, b.channels, b.omnichannel,
           b.preferred_channel, b.reachable_channels, b.returned_orders, b.returns_rate,
           c.rfm_r, c.rfm_f, c.rfm_m, c.rfm_score, c.rfm_group,
           c.p_alive, c.expected_purchases, c.expected_order_value::BIGINT, c.clv::BIGINT,
           c.cycle_days,
           CASE WHEN c.cycle_days IS NOT NULL
                THEN (b.last_day + round(c.cycle_days)::INTEGER)::TIMESTAMP END,
           c.lifecycle_stage, b.consented_channels
    FROM _trait_base b JOIN _trait_calc c USING (rn)
    ORDER BY b.rn
"""
