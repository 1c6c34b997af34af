"""Customer and order rows → Segment events, in SQL (one path into the log).

A customers row becomes an ``identify`` event; the lines of one order become
one ``Order Completed`` event (plus ``Order Refunded`` / ``Order Cancelled``
for such statuses). messageIds are derived from the source, the kind, the
natural key and, for customers, the row's content, so importing the same file
twice stores nothing new, while an edited customer row is a new identify.

The SQL reads ``_sen_rows`` (checked rows, see :mod:`sen.ingest.rows`) and
writes ``_sen_ev`` in the shape :func:`sen.ingest.bulk_events.store_staged`
takes, plus ``_rows_n``: how many file rows each event stands for.
"""

from __future__ import annotations

from sen.ingest.readers import sql_str

_CONTEXT = """'{"library":{"name":"sen-import"}}'"""
_CUSTOMER_TRAITS = ("name", "phone", "email", "gender", "birth_date", "province", "address",
                    "zalo_id", "loyalty_card", "store_code", "created_at",
                    "consent_advertising", "consent_sms", "consent_zalo", "consent_email")


def _event_select(*, message_id: str, type_: str, event: str, user_id: str,
                  anonymous_id: str, source: str, timestamp: str, original: str,
                  received_at: str, properties: str, traits: str, load_id: str) -> str:
    return f"""
        {message_id} AS message_id, md5_number_upper({message_id}) AS message_key,
        {type_} AS type, {event} AS event, CAST(NULL AS VARCHAR) AS name,
        {user_id} AS user_id, {anonymous_id} AS anonymous_id,
        CAST(NULL AS VARCHAR) AS previous_id, CAST(NULL AS VARCHAR) AS group_id,
        {sql_str(source)} AS source, {timestamp} AS timestamp,
        {original} AS original_timestamp, CAST(NULL AS TIMESTAMP) AS sent_at,
        {received_at} AS received_at, {properties} AS properties, {traits} AS traits,
        CAST({_CONTEXT} AS JSON) AS context, CAST(NULL AS JSON) AS extra,
        {sql_str(load_id)} AS load_id"""


def customers_sql(source: str, load_id: str, received_at: str, *, has_traits: bool) -> str:
    """``_sen_ev`` of identify events, one per accepted customer row.

    The event time is the import time plus the row number in microseconds, so
    when a file holds a customer twice the later row's traits win.
    """
    pairs = ", ".join(f"'{t}', {t}" for t in _CUSTOMER_TRAITS)
    extra = "coalesce(_extra_traits, '{}')" if has_traits else "'{}'"
    mid = (f"'imp-' || md5(concat_ws('|', {sql_str(source)}, 'customers', customer_id, "
           f"_traits))")
    return f"""
    CREATE OR REPLACE TEMP TABLE _sen_ev AS
    SELECT _row, CAST(NULL AS SMALLINT) AS _rule_no, 1 AS _rows_n, {_event_select(
        message_id=mid, type_="'identify'", event="CAST(NULL AS VARCHAR)",
        user_id="customer_id", anonymous_id="CAST(NULL AS VARCHAR)", source=source,
        timestamp=f"{received_at} + to_microseconds(_row)", original="CAST(NULL AS TIMESTAMP)",
        received_at=received_at, properties="CAST(NULL AS JSON)",
        traits="CAST(_traits AS JSON)", load_id=load_id)}
    FROM (
        SELECT *, CAST(json_merge_patch(json_merge_patch('{{}}', json_object({pairs})),
                       json_merge_patch('{{}}', {extra})) AS VARCHAR) AS _traits
        FROM _sen_rows WHERE _rule IS NULL
    )
    """


def reject_whole_orders_sql() -> str:
    """A line that breaks a rule rejects its whole order: half an order would
    carry wrong totals into every report."""
    return """
    UPDATE _sen_rows SET _field = 'order_id', _rule = 'order_has_rejected_line',
        _reason = 'row ' || _sen_rows._row || ': order_id the order "' || _sen_rows.order_id
                  || '" has a rejected line (row ' || b.bad_row || ')'
                  || ' [order_has_rejected_line]'
    FROM (SELECT order_id, min(_row) AS bad_row FROM _sen_rows
          WHERE _rule IS NOT NULL AND order_id IS NOT NULL GROUP BY order_id) AS b
    WHERE _sen_rows.order_id = b.order_id AND _sen_rows._rule IS NULL
    """


def orders_sql(source: str, load_id: str, received_at: str) -> str:
    """``_sen_ev``: one Order Completed per accepted order (order-level fields from
    its first line), plus a status event for refunded and cancelled orders."""
    item = ("json_merge_patch('{}', json_object('product_id', product_id, 'sku', sku, "
            "'name', product_name, 'brand', brand, 'category', category, 'size', size, "
            "'colour', colour, 'price', unit_price, 'quantity', quantity, "
            "'discount', line_discount, 'coupon', line_coupon))")
    props = ("json_merge_patch(json_merge_patch('{}', json_object('order_id', o.order_id, "
             "'total', coalesce(o.total, i.subtotal - i.line_discount "
             "- coalesce(o.order_discount, 0) + coalesce(o.shipping, 0)), "
             "'subtotal', i.subtotal, 'discount', CASE WHEN o.order_discount IS NULL "
             "AND i.line_discount = 0 THEN NULL ELSE coalesce(o.order_discount, 0) "
             "+ i.line_discount END, "
             "'shipping', o.shipping, 'coupon', o.order_coupon, "
             "'currency', coalesce(o.currency, 'VND'), 'channel', o.channel, "
             "'store_code', o.store_code, 'marketplace', o.marketplace, 'buyer_id', o.buyer_id, "
             "'phone', o.phone, 'email', o.email, 'customer_name', o.customer_name)), "
             "json_object('products', i.products))")
    anon = ("CASE WHEN o.customer_id IS NULL THEN coalesce(o.marketplace || ':' || o.buyer_id, "
            f"{sql_str(source)} || ':order:' || o.order_id) END")
    key = f"concat_ws('|', {sql_str(source)}, 'orders', o.order_id"
    completed = _event_select(
        message_id=f"'imp-' || md5({key}))", type_="'track'", event="'Order Completed'",
        user_id="o.customer_id", anonymous_id=anon, source=source, timestamp="o.ordered_at",
        original="o.ordered_at", received_at=received_at, properties=f"CAST({props} AS JSON)",
        traits="CAST(NULL AS JSON)", load_id=load_id)
    status = _event_select(
        message_id=f"'imp-' || md5({key}, o.status))",
        type_="'track'",
        event="CASE o.status WHEN 'refunded' THEN 'Order Refunded' ELSE 'Order Cancelled' END",
        user_id="o.customer_id", anonymous_id=anon, source=source, timestamp="o.ordered_at",
        original="o.ordered_at", received_at=received_at,
        properties="CAST(json_object('order_id', o.order_id) AS JSON)",
        traits="CAST(NULL AS JSON)", load_id=load_id)
    return f"""
    CREATE OR REPLACE TEMP TABLE _sen_ev AS
    WITH good AS (SELECT * FROM _sen_rows WHERE _rule IS NULL),
    firsts AS (
        SELECT g.* FROM good g
        JOIN (SELECT order_id, min(_row) AS _row FROM good GROUP BY order_id) f USING (_row)
    ),
    items AS (
        SELECT order_id, count(*) AS n,
               to_json(list({item} ORDER BY _row)) AS products,
               sum(unit_price * quantity)::BIGINT AS subtotal,
               coalesce(sum(line_discount), 0)::BIGINT AS line_discount
        FROM good GROUP BY order_id
    )
    SELECT o._row, CAST(NULL AS SMALLINT) AS _rule_no, i.n AS _rows_n, {completed}
    FROM firsts o JOIN items i USING (order_id)
    UNION ALL
    SELECT -o._row, CAST(NULL AS SMALLINT), 0, {status}
    FROM firsts o WHERE o.status IN ('refunded', 'cancelled')
    """
