"""Looking for a person's data in every text column of both stores, and table digests."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from sen.store.analytics import DuckDBEngine
from sen.store.operational import metadata

_TEXT = "data_type IN ('VARCHAR', 'JSON') OR data_type LIKE 'VARCHAR[]%'"


def analytics_hits(engine: DuckDBEngine, needles: set[str]) -> list[tuple[str, str, str]]:
    """(table, column, needle) for every text column of every table holding a needle,
    temporary tables included (one query per table)."""
    columns: dict[str, list[str]] = {}
    for table, column in engine.execute(
            f"SELECT table_name, column_name FROM information_schema.columns "
            f"WHERE {_TEXT}").fetchall():
        columns.setdefault(table, []).append(column)
    hits = []
    for table, cols in columns.items():
        pairs = [(c, n) for c in cols for n in sorted(needles)]
        counts = ", ".join(f'count(*) FILTER (WHERE contains(lower(CAST("{c}" AS VARCHAR)), '
                           f'lower(${i + 1})))' for i, (c, _) in enumerate(pairs))
        row = engine.execute(f'SELECT {counts} FROM "{table}"', [n for _, n in pairs]).fetchone()
        hits += [(table, c, n) for (c, n), k in zip(pairs, row, strict=True) if k]
    return hits


def ops_hits(ops: sa.Engine, needles: set[str]) -> list[tuple[str, str, str]]:
    """The same in the operational store; compared in Python, since SQLite's lower()
    knows only ASCII."""
    lowered = {n: n.casefold() for n in needles}
    hits = []
    with ops.connect() as con:
        for table in metadata.sorted_tables:
            text = [c for c in table.c if isinstance(c.type, sa.String | sa.Text)]
            for row in con.execute(sa.select(*text)):
                for col, value in zip(text, row, strict=True):
                    for needle, low in lowered.items():
                        if value and low in value.casefold():
                            hits.append((table.name, col.name, needle))
    return sorted(set(hits))


def digest(engine: DuckDBEngine) -> dict[str, Any]:
    """Each analytical table's row count and a hash of its rows."""
    tables = [t for (t,) in engine.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
        "AND table_type = 'BASE TABLE' ORDER BY 1").fetchall()]
    return {t: engine.execute(f'SELECT count(*), bit_xor(hash(x)) FROM "{t}" AS x').fetchone()
            for t in tables}


def ops_rows(ops: sa.Engine, table: sa.Table, **where: Any) -> list[dict[str, Any]]:
    query = sa.select(table)
    for name, value in where.items():
        query = query.where(table.c[name] == value)
    with ops.connect() as con:
        return [dict(r._mapping) for r in con.execute(query)]


def ops_digest(ops: sa.Engine) -> dict[str, list[tuple]]:
    with ops.connect() as con:
        return {t.name: sorted((tuple(r) for r in con.execute(sa.select(t))), key=repr)
                for t in metadata.sorted_tables}
