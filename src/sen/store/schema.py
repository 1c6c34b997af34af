"""Tables of the analytical store.

The event log is the source of truth; ``orders``, ``order_items`` and
``customers`` are projections rebuilt from it; ``products`` and ``stores`` are
reference data upserted by imports. Timestamps are UTC (``TIMESTAMP`` without a
zone), money is integer VND (``BIGINT``).
"""

from __future__ import annotations

SCHEMA_VERSION = 5

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
    # Identity (sen.identity.resolver). Observations, fields and devices are
    # read from the log (rkey and vkey: md5_number_upper of the record and of
    # "type:value", integer keys that make an update's joins cheap); profiles,
    # the shared list and golden records are derived; overrides are people's
    # decisions and the merge log is history.
    """
    CREATE TABLE IF NOT EXISTS identity_normal (
        id_type VARCHAR NOT NULL, raw VARCHAR NOT NULL, value VARCHAR, reason VARCHAR
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS identity_observations (
        record VARCHAR NOT NULL, id_type VARCHAR NOT NULL, raw VARCHAR NOT NULL,
        value VARCHAR, source VARCHAR, first_seen TIMESTAMP, last_seen TIMESTAMP, n BIGINT,
        rkey UBIGINT NOT NULL, vkey UBIGINT
    )
    """,
    # Look-up by value (a hotline agent typing a phone) is a point read.
    """
    CREATE INDEX IF NOT EXISTS identity_observations_value ON identity_observations (value)
    """,
    """
    CREATE TABLE IF NOT EXISTS identity_fields (
        record VARCHAR NOT NULL, field VARCHAR NOT NULL, value VARCHAR NOT NULL,
        source VARCHAR, first_seen TIMESTAMP, last_seen TIMESTAMP, n BIGINT,
        rkey UBIGINT NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS identity_devices (
        record VARCHAR NOT NULL, device_id VARCHAR NOT NULL, device_type VARCHAR,
        push_token VARCHAR, last_seen TIMESTAMP, rkey UBIGINT NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS identity_names (raw VARCHAR NOT NULL, name VARCHAR, folded VARCHAR)
    """,
    """
    CREATE TABLE IF NOT EXISTS identity_profiles (
        record VARCHAR NOT NULL, profile_id VARCHAR NOT NULL, cluster_id VARCHAR NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS identity_shared (id_type VARCHAR NOT NULL, value VARCHAR NOT NULL)
    """,
    """
    CREATE TABLE IF NOT EXISTS identity_overrides (
        decided_at TIMESTAMP NOT NULL, kind VARCHAR NOT NULL, id_type VARCHAR, value VARCHAR,
        record_a VARCHAR, record_b VARCHAR, active BOOLEAN NOT NULL, actor VARCHAR, note VARCHAR
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS identity_merge_log (
        logged_at TIMESTAMP NOT NULL, action VARCHAR NOT NULL, profile_id VARCHAR NOT NULL,
        other_profiles VARCHAR[], records INTEGER, cause VARCHAR, actor VARCHAR
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS identity_candidates (
        profile_a VARCHAR NOT NULL, profile_b VARCHAR NOT NULL, record_a VARCHAR NOT NULL,
        record_b VARCHAR NOT NULL, probability DOUBLE NOT NULL, evidence VARCHAR,
        scored_at TIMESTAMP NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS profiles (
        profile_id VARCHAR NOT NULL, record VARCHAR NOT NULL, name VARCHAR, name_folded VARCHAR,
        gender VARCHAR, birth_date DATE, province VARCHAR, address VARCHAR, store_code VARCHAR,
        phone VARCHAR, email VARCHAR, zalo_id VARCHAR, loyalty_card VARCHAR,
        identified BOOLEAN NOT NULL, records INTEGER NOT NULL, user_ids VARCHAR[],
        sources VARCHAR[], first_seen TIMESTAMP, last_seen TIMESTAMP,
        anonymous_since TIMESTAMP, identified_at TIMESTAMP,
        devices INTEGER, browsers INTEGER, web_push_tokens INTEGER, app_push_tokens INTEGER
    )
    """,
    # Traits (sen.traits): one row per profile, as of ``as_of``; spend per year
    # and month beside it; user-defined traits as (profile, trait, value) rows.
    """
    CREATE TABLE IF NOT EXISTS profile_traits (
        profile_id VARCHAR NOT NULL, as_of TIMESTAMP NOT NULL, computed_at TIMESTAMP NOT NULL,
        orders INTEGER NOT NULL, spend BIGINT NOT NULL, aov BIGINT,
        orders_12m INTEGER NOT NULL, spend_12m BIGINT NOT NULL, items INTEGER NOT NULL,
        first_purchase_at TIMESTAMP, first_purchase_channel VARCHAR, first_purchase_store VARCHAR,
        last_purchase_at TIMESTAMP, last_purchase_channel VARCHAR, last_purchase_store VARCHAR,
        days_since_last_purchase INTEGER,
        favourite_brand VARCHAR, favourite_store VARCHAR, favourite_category VARCHAR,
        favourite_size VARCHAR,
        province VARCHAR, region VARCHAR, age INTEGER, age_band VARCHAR,
        channels VARCHAR[], omnichannel BOOLEAN NOT NULL,
        preferred_channel VARCHAR, reachable_channels VARCHAR[],
        returned_orders INTEGER NOT NULL, returns_rate DOUBLE,
        rfm_r TINYINT, rfm_f TINYINT, rfm_m TINYINT, rfm_score VARCHAR, rfm_group VARCHAR,
        p_alive DOUBLE, expected_purchases_12m DOUBLE, expected_order_value BIGINT,
        clv_12m BIGINT, purchase_cycle_days DOUBLE, next_purchase_at TIMESTAMP,
        lifecycle_stage VARCHAR, consented_channels VARCHAR[]
    )
    """,
    # Stores made before consent existed get the column (at the end, where new ones have it).
    """
    ALTER TABLE profile_traits ADD COLUMN IF NOT EXISTS consented_channels VARCHAR[]
    """,
    """
    CREATE TABLE IF NOT EXISTS profile_trait_periods (
        profile_id VARCHAR NOT NULL, period VARCHAR NOT NULL, orders INTEGER NOT NULL,
        spend BIGINT NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS trait_definitions (
        name VARCHAR PRIMARY KEY, definition JSON NOT NULL, created_at TIMESTAMP NOT NULL,
        created_by VARCHAR, updated_at TIMESTAMP NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS custom_trait_values (
        profile_id VARCHAR NOT NULL, trait VARCHAR NOT NULL, value_num DOUBLE, value_text VARCHAR
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS trait_runs (
        started_at TIMESTAMP NOT NULL, as_of TIMESTAMP NOT NULL, kind VARCHAR NOT NULL,
        profiles BIGINT NOT NULL, seconds DOUBLE NOT NULL, models JSON
    )
    """,
    # Orders and their lines by profile, up to the last trait run's as_of, written by
    # every trait run for the profiles it covers: what segments' order conditions read.
    # Lines repeat their order's status, time, channel and store, so the commonest
    # conditions ("bought Vela in a store") read one table.
    """
    CREATE TABLE IF NOT EXISTS profile_orders (
        profile_id VARCHAR NOT NULL, order_id VARCHAR NOT NULL, ordered_at TIMESTAMP NOT NULL,
        status VARCHAR NOT NULL, source VARCHAR, channel VARCHAR, store VARCHAR,
        subtotal BIGINT, discount BIGINT, shipping BIGINT, total BIGINT, coupon VARCHAR,
        item_count INTEGER
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS profile_order_lines (
        profile_id VARCHAR NOT NULL, order_id VARCHAR NOT NULL, ordered_at TIMESTAMP NOT NULL,
        status VARCHAR NOT NULL, channel VARCHAR, store VARCHAR, brand VARCHAR, category VARCHAR,
        size VARCHAR, colour VARCHAR,
        sku VARCHAR, product_id VARCHAR, product_name VARCHAR, quantity INTEGER, price BIGINT,
        amount BIGINT
    )
    """,
    # Segments (sen.segments): who is in each saved segment now.
    """
    CREATE TABLE IF NOT EXISTS segment_members (
        segment VARCHAR NOT NULL, profile_id VARCHAR NOT NULL
    )
    """,
    # Every run of a saved segment: its size history, and its members at the time.
    """
    CREATE TABLE IF NOT EXISTS segment_runs (
        segment VARCHAR NOT NULL, run_at TIMESTAMP NOT NULL, as_of TIMESTAMP NOT NULL,
        members BIGINT NOT NULL, entered BIGINT NOT NULL, exited BIGINT NOT NULL,
        seconds DOUBLE NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS segment_snapshots (
        segment VARCHAR NOT NULL, run_at TIMESTAMP NOT NULL, profile_id VARCHAR NOT NULL
    )
    """,
    # Audience sync (sen.segments.audiences.links): per link, each member's email and
    # phone as stored and as last sent (normalised; empty when neither was usable) to
    # which audience ("meta:6123"), and every attempt.
    """
    CREATE TABLE IF NOT EXISTS audience_sync_state (
        link VARCHAR NOT NULL, audience VARCHAR NOT NULL, profile_id VARCHAR NOT NULL,
        raw_email VARCHAR, raw_phone VARCHAR, email VARCHAR, phone VARCHAR
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS audience_sync_runs (
        link VARCHAR NOT NULL, run_at TIMESTAMP NOT NULL, segment_run_at TIMESTAMP,
        status VARCHAR NOT NULL, added BIGINT NOT NULL, removed BIGINT NOT NULL,
        unchanged BIGINT NOT NULL, skipped BIGINT NOT NULL, seconds DOUBLE NOT NULL,
        error VARCHAR
    )
    """,
    # Events by profile (sen.segments.events): every tracked, page and screen event
    # of a record that has a profile, with the profile it belongs to now, so
    # segment conditions read events without joining the log to identity.
    # Message events' channel, campaign and journey are columns. Refreshed for the
    # records a merge or split moved; rebuilt from the log at any time.
    """
    CREATE TABLE IF NOT EXISTS profile_events (
        profile_id VARCHAR NOT NULL, event VARCHAR NOT NULL, timestamp TIMESTAMP NOT NULL,
        source VARCHAR, channel VARCHAR, campaign_id VARCHAR, journey_id VARCHAR,
        properties JSON, record VARCHAR NOT NULL, event_rowid BIGINT NOT NULL
    )
    """,
)
