"""Projections of the event log: ``orders``, ``order_items`` and ``customers``.

Events are immutable; these tables are what queries need constantly, kept in
step with the log by :func:`apply_new_events` (called with every group commit
of the event writer and every file import) and rebuilt from scratch by
:func:`rebuild`. Both run the same SQL, so a rebuild gives the same tables as
the increments did.

Rules:

* ``Order Completed`` → one ``orders`` row per ``properties.order_id`` and one
  ``order_items`` row per element of ``properties.products``. An order sent
  again under another messageId is a duplicate order: the first one (earliest
  ``received_at``, then messageId) is kept.
* ``Order Refunded`` / ``Order Cancelled`` → ``orders.status`` (the latest
  such event wins).
* ``identify`` with a ``userId`` → ``customers``: traits are merged key by key,
  the latest value of each key winning (a ``null`` removes the key);
  ``first_seen``/``last_seen`` span the identify events and ``traits.created_at``.

Money is integer VND: JSON values are cast through DECIMAL and rounded, never
through a float.
"""

from __future__ import annotations

from typing import Any

from sen.store.analytics import DuckDBEngine

ORDER_EVENTS = ("Order Completed", "Order Refunded", "Order Cancelled")
STATUS_OF_EVENT = {"Order Refunded": "refunded", "Order Cancelled": "cancelled"}


def money(json_expr: str, path: str) -> str:
    """SQL for an integer VND amount at ``path`` of a JSON value (rounded, no float)."""
    return (f"TRY_CAST(round(TRY_CAST(json_extract_string({json_expr}, '{path}') "
            f"AS DECIMAL(38, 4))) AS BIGINT)")


def text(json_expr: str, path: str) -> str:
    """SQL for a text value at ``path`` of a JSON value, blanks as NULL."""
    return f"NULLIF(trim(json_extract_string({json_expr}, '{path}')), '')"


def _orders_sql(relation: str) -> list[str]:
    """Statements that add the new orders and their items found in ``relation``."""
    p = "properties"
    return [
        # Order events of this batch, filtered first so a batch without orders is cheap.
        f"""
        CREATE OR REPLACE TEMP TABLE _sen_order_ev AS
        SELECT message_id, event, source, user_id, anonymous_id, timestamp, received_at,
               {p}, {text(p, '$.order_id')} AS order_id
        FROM {relation}
        WHERE type = 'track' AND event IN {ORDER_EVENTS!r}
        """,
        """
        CREATE OR REPLACE TEMP TABLE _sen_new_orders AS
        SELECT * FROM (
            SELECT *, row_number() OVER (
                PARTITION BY order_id ORDER BY received_at, message_id) AS _n
            FROM _sen_order_ev
            WHERE event = 'Order Completed' AND order_id IS NOT NULL
        ) AS c
        WHERE _n = 1 AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.order_id = c.order_id)
        """,
        f"""
        CREATE OR REPLACE TEMP TABLE _sen_new_items AS
        SELECT order_id, line_no,
               {text('item', '$.product_id')} AS product_id,
               {text('item', '$.sku')} AS sku,
               {text('item', '$.name')} AS name,
               {text('item', '$.brand')} AS brand,
               {text('item', '$.category')} AS category,
               {text('item', '$.size')} AS size,
               coalesce({text('item', '$.colour')}, {text('item', '$.color')}) AS colour,
               TRY_CAST(round(TRY_CAST(json_extract_string(item, '$.quantity')
                   AS DECIMAL(38, 4))) AS INTEGER) AS quantity,
               {money('item', '$.price')} AS price,
               {money('item', '$.discount')} AS discount,
               {text('item', '$.coupon')} AS coupon
        FROM (
            SELECT order_id,
                   unnest(json_extract({p}, '$.products[*]')) AS item,
                   generate_subscripts(json_extract({p}, '$.products[*]'), 1) AS line_no
            FROM _sen_new_orders
            WHERE json_type({p}, '$.products') = 'ARRAY'
        ) AS x
        """,
        f"""
        INSERT INTO orders
        SELECT o.order_id, o.message_id, o.source,
               {text('o.' + p, '$.channel')},
               {text('o.' + p, '$.store_code')},
               o.user_id, o.anonymous_id,
               {text('o.' + p, '$.phone')},
               {text('o.' + p, '$.email')},
               o.timestamp,
               'completed',
               coalesce({text('o.' + p, '$.currency')}, 'VND'),
               coalesce({money('o.' + p, '$.subtotal')}, i.subtotal),
               {money('o.' + p, '$.discount')},
               {money('o.' + p, '$.shipping')},
               coalesce({money('o.' + p, '$.total')}, {money('o.' + p, '$.revenue')}),
               {text('o.' + p, '$.coupon')},
               i.item_count
        FROM _sen_new_orders o
        LEFT JOIN (
            SELECT order_id, sum(quantity)::INTEGER AS item_count,
                   sum(price * quantity)::BIGINT AS subtotal
            FROM _sen_new_items GROUP BY order_id
        ) i USING (order_id)
        """,
        "INSERT INTO order_items SELECT * FROM _sen_new_items",
        """
        UPDATE orders SET status = s.status
        FROM (
            SELECT order_id,
                   arg_max(CASE event WHEN 'Order Refunded' THEN 'refunded'
                           ELSE 'cancelled' END, timestamp) AS status
            FROM _sen_order_ev
            WHERE event IN ('Order Refunded', 'Order Cancelled') AND order_id IS NOT NULL
            GROUP BY order_id
        ) AS s
        WHERE orders.order_id = s.order_id
        """,
    ]


def _customers_sql(relation: str) -> list[str]:
    """Statements that merge the identify events of ``relation`` into ``customers``."""
    return [
        f"""
        CREATE OR REPLACE TEMP TABLE _sen_ident AS
        SELECT user_id, source, timestamp, received_at, message_id, traits
        FROM {relation}
        WHERE type = 'identify' AND user_id IS NOT NULL
        """,
        """
        CREATE OR REPLACE TEMP TABLE _sen_cust AS
        WITH kv AS (
            SELECT user_id, e.key AS k,
                   arg_max(e.value, {'t': timestamp, 'r': received_at, 'm': message_id}) AS v
            FROM (
                SELECT user_id, timestamp, received_at, message_id,
                       unnest(map_entries(json_transform(traits, '"MAP(VARCHAR, JSON)"'))) AS e
                FROM _sen_ident WHERE json_type(traits) = 'OBJECT'
            ) GROUP BY user_id, e.key
        ), merged AS (
            -- Keys in a fixed order, so the same events always give the same text.
            SELECT user_id,
                   to_json(map_from_entries(list({'key': k, 'value': v} ORDER BY k))) AS traits
            FROM kv GROUP BY user_id
        ), span AS (
            SELECT user_id,
                   arg_min(source, {'t': timestamp, 'r': received_at, 'm': message_id}) AS source,
                   min(timestamp) AS first_seen, max(timestamp) AS last_seen
            FROM _sen_ident GROUP BY user_id
        )
        SELECT s.user_id, s.source, s.first_seen, s.last_seen, m.traits
        FROM span s LEFT JOIN merged m USING (user_id)
        """,
        # Existing customers: newer increments patch over older traits.
        """
        UPDATE customers SET
            first_seen = least(customers.first_seen, c.first_seen),
            last_seen = greatest(customers.last_seen, c.last_seen),
            traits = CASE WHEN c.last_seen >= customers.last_seen
                          THEN json_merge_patch(coalesce(customers.traits, '{}'),
                                                coalesce(c.traits, '{}'))
                          ELSE json_merge_patch(coalesce(c.traits, '{}'),
                                                coalesce(customers.traits, '{}')) END
        FROM _sen_cust c WHERE customers.user_id = c.user_id
        """,
        """
        INSERT INTO customers (user_id, source, first_seen, last_seen, traits)
        SELECT c.user_id, c.source, c.first_seen, c.last_seen,
               json_merge_patch('{}', coalesce(c.traits, '{}'))
        FROM _sen_cust c
        WHERE NOT EXISTS (SELECT 1 FROM customers x WHERE x.user_id = c.user_id)
        """,
        # Columns read from the merged traits, for the touched customers only.
        """
        UPDATE customers SET
            name = coalesce(NULLIF(trim(traits ->> 'name'), ''),
                            NULLIF(trim(concat_ws(' ', traits ->> 'last_name',
                                                  traits ->> 'first_name')), '')),
            phone = NULLIF(trim(traits ->> 'phone'), ''),
            email = NULLIF(trim(traits ->> 'email'), ''),
            first_seen = least(first_seen, TRY_CAST(traits ->> 'created_at' AS TIMESTAMP))
        WHERE user_id IN (SELECT user_id FROM _sen_cust)
        """,
    ]


def _has_rows(cur: Any, sql: str) -> bool:
    return cur.execute(sql).fetchone() is not None


def apply_new_events(cur: Any, relation: str) -> None:
    """Update the projections with the NEW events in ``relation``.

    ``cur`` is a DuckDB cursor inside the caller's transaction; ``relation`` is
    a table, view or registered Arrow table with the columns of
    ``EVENT_COLUMNS``. A batch without order or identify events costs one
    filtered scan of the batch.
    """
    kinds = cur.execute(
        f"""SELECT bool_or(type = 'track' AND event IN {ORDER_EVENTS!r}),
                   bool_or(type = 'identify' AND user_id IS NOT NULL)
            FROM {relation}"""
    ).fetchone()
    has_orders, has_identifies = bool(kinds and kinds[0]), bool(kinds and kinds[1])
    statements: list[str] = []
    if has_orders:
        statements += _orders_sql(relation)
    if has_identifies:
        statements += _customers_sql(relation)
    for sql in statements:
        cur.execute(sql)
    for temp in ("_sen_order_ev", "_sen_new_orders", "_sen_new_items", "_sen_ident", "_sen_cust"):
        cur.execute(f"DROP TABLE IF EXISTS {temp}")


def rebuild(engine: DuckDBEngine) -> None:
    """Rebuild ``orders``, ``order_items`` and ``customers`` from the whole event log.

    One transaction: readers see the old projections until the new ones are
    complete.
    """
    cur = engine.cursor()
    cur.execute("BEGIN TRANSACTION")
    try:
        for table in ("orders", "order_items", "customers"):
            cur.execute(f"DELETE FROM {table}")
        apply_new_events(cur, "events")
        cur.execute("COMMIT")
    except Exception:
        cur.execute("ROLLBACK")
        raise
