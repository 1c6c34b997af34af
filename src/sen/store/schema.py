"""Tables of the analytical store.

The event log is the source of truth; ``orders``, ``order_items`` and
``customers`` are projections rebuilt from it; ``products`` and ``stores`` are
reference data upserted by imports. Timestamps are UTC (``TIMESTAMP`` without a
zone), money is integer VND (``BIGINT``).
"""

from __future__ import annotations

SCHEMA_VERSION = 1

EVENT_COLUMNS: tuple[str, ...] = (
    "message_id", "message_key", "type", "event", "name", "user_id", "anonymous_id",
    "previous_id", "group_id", "source", "timestamp", "original_timestamp", "sent_at",
    "received_at", "properties", "traits", "context", "extra", "load_id",
)

DDL: tuple[str, ...] = (
    """
    CREATE TABLE IF NOT EXISTS sen_meta (key VARCHAR PRIMARY KEY, value VARCHAR)
    """,
    # message_key: first 8 bytes of md5(message_id), little-endian, the dedupe key.
    """
    CREATE TABLE IF NOT EXISTS events (
        message_id VARCHAR NOT NULL,
        message_key UBIGINT NOT NULL,
        type VARCHAR NOT NULL,
        event VARCHAR,
        name VARCHAR,
        user_id VARCHAR,
        anonymous_id VARCHAR,
        previous_id VARCHAR,
        group_id VARCHAR,
        source VARCHAR NOT NULL,
        timestamp TIMESTAMP NOT NULL,
        original_timestamp TIMESTAMP,
        sent_at TIMESTAMP,
        received_at TIMESTAMP NOT NULL,
        properties JSON,
        traits JSON,
        context JSON,
        extra JSON,
        load_id VARCHAR
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS quarantine (
        received_at TIMESTAMP NOT NULL,
        source VARCHAR NOT NULL,
        load_id VARCHAR,
        position INTEGER,
        field VARCHAR,
        reason VARCHAR NOT NULL,
        payload VARCHAR
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS orders (
        order_id VARCHAR NOT NULL,
        message_id VARCHAR NOT NULL,
        source VARCHAR NOT NULL,
        channel VARCHAR,
        store_code VARCHAR,
        user_id VARCHAR,
        anonymous_id VARCHAR,
        phone VARCHAR,
        email VARCHAR,
        ordered_at TIMESTAMP NOT NULL,
        status VARCHAR NOT NULL,
        currency VARCHAR,
        subtotal BIGINT,
        discount BIGINT,
        shipping BIGINT,
        total BIGINT,
        coupon VARCHAR,
        item_count INTEGER
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS order_items (
        order_id VARCHAR NOT NULL,
        line_no INTEGER NOT NULL,
        product_id VARCHAR,
        sku VARCHAR,
        name VARCHAR,
        brand VARCHAR,
        category VARCHAR,
        size VARCHAR,
        colour VARCHAR,
        quantity INTEGER,
        price BIGINT,
        discount BIGINT,
        coupon VARCHAR
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS customers (
        user_id VARCHAR NOT NULL,
        source VARCHAR,
        first_seen TIMESTAMP,
        last_seen TIMESTAMP,
        name VARCHAR,
        phone VARCHAR,
        email VARCHAR,
        traits JSON
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS products (
        sku VARCHAR PRIMARY KEY,
        product_id VARCHAR,
        name VARCHAR,
        brand VARCHAR,
        category VARCHAR,
        size VARCHAR,
        colour VARCHAR,
        list_price BIGINT,
        updated_at TIMESTAMP
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS stores (
        store_code VARCHAR PRIMARY KEY,
        name VARCHAR,
        province VARCHAR,
        region VARCHAR,
        latitude DOUBLE,
        longitude DOUBLE,
        opened_on DATE,
        updated_at TIMESTAMP
    )
    """,
)
