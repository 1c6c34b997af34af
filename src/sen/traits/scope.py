"""The scope every trait run reads: which profiles, their records, orders and lines.

Used by :mod:`sen.traits.runner` for the built-in traits and by
:mod:`sen.traits.custom` for user-defined ones, so both see the same rows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pyarrow as pa

from sen.traits import builtin


def prepare_scope(cur: Any, as_of: datetime, profile_ids: list[str] | None = None, *,
                  scope_sql: str | None = None) -> int:
    """Create the scope tables every trait reads: ``_trait_scope``, ``_trait_records``,
    ``_trait_orders`` and the view ``_trait_lines``, each with the profile's ``pk``.
    Returns the number of profiles in scope.

    ``profile_ids`` (or a ``scope_sql`` query returning ``profile_id``) limits
    the scope; neither means every profile.
    """
    if profile_ids is not None:
        cur.register("_trait_ids", pa.table({"profile_id": pa.array(profile_ids, pa.string())}))
        scope_sql = "SELECT profile_id FROM _trait_ids"
    # pk numbers the scope in profile_id order: the key every aggregate groups by.
    where = "" if scope_sql is None else f"WHERE profile_id IN ({scope_sql})"
    cur.execute(f"""
        CREATE OR REPLACE TEMP TABLE _trait_scope AS
        SELECT profile_id, (row_number() OVER (ORDER BY profile_id) - 1)::INTEGER AS pk
        FROM (SELECT DISTINCT profile_id FROM profiles {where})
    """)
    cur.execute("""
        CREATE OR REPLACE TEMP TABLE _trait_records AS
        SELECT ip.record, s.profile_id, s.pk
        FROM identity_profiles ip JOIN _trait_scope s USING (profile_id)
    """)
    cur.execute(builtin.scope_orders_sql(everyone=scope_sql is None), [as_of])
    kinds = cur.execute("SELECT table_type FROM information_schema.tables "
                        "WHERE table_name = '_trait_lines'").fetchall()
    if kinds and kinds[0][0] != "VIEW":  # a table of the same name, made by hand
        cur.execute("DROP TABLE _trait_lines")
    cur.execute(builtin.SCOPE_LINES)
    return int(cur.execute("SELECT count(*) FROM _trait_scope").fetchall()[0][0])
