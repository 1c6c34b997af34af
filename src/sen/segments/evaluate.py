"""Running rules on a store: members, counts, per-branch counts, samples and SQL.

The rule is compiled once (:mod:`sen.segments.compiler`) against the store's
Ibis backend; what the compiler needs from the store (the user-defined traits
and their types) is read here, so the compiler stays pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import ibis

from sen.segments import compiler
from sen.segments.rules import Rule
from sen.traits import fields
from sen.traits.runner import now

# A missing count, sum or distinct count of nothing is 0 (sen.traits.custom).
_ZERO_AGGREGATES = frozenset({"count", "sum", "distinct"})


def context(backend: Any, cur: Any, as_of: datetime | None = None) -> compiler.Context:
    """A compile context over ``backend``, with the user-defined traits read through ``cur``."""
    defined = fields.custom_traits(cur)
    zero = {name for name, t in defined.items()
            if t.definition.get("aggregate") in _ZERO_AGGREGATES}
    return compiler.Context(backend, as_of or now(),
                            {name: t.type for name, t in defined.items()}, frozenset(zero))


def _ctx(engine: Any, as_of: datetime | None) -> compiler.Context:
    return context(engine.ibis(), engine.cursor(), as_of)


def _rows(engine: Any, expr: Any) -> list[tuple[Any, ...]]:
    """Run an expression on the store's own cursor (no DataFrame in between)."""
    return engine.cursor().execute(ibis.to_sql(expr, dialect="duckdb")).fetchall()


def member_ids(engine: Any, rule: Rule, *, as_of: datetime | None = None) -> list[str]:
    """Every member's profile id, sorted."""
    expr = compiler.members(rule, _ctx(engine, as_of)).order_by("profile_id")
    return [r[0] for r in _rows(engine, expr)]


def count(engine: Any, rule: Rule, *, as_of: datetime | None = None) -> int:
    return int(_rows(engine, compiler.count(rule, _ctx(engine, as_of)).as_table())[0][0])


@dataclass(frozen=True)
class Preview:
    """What the builder shows while a marketer types: the count, each branch's own
    count (which condition shrinks the audience) and a few members."""

    count: int
    branches: list[tuple[str, int]]
    sample: list[dict[str, Any]]


def preview(engine: Any, rule: Rule, *, as_of: datetime | None = None,
            sample: int = 10) -> Preview:
    ctx = _ctx(engine, as_of)
    paths, counts = compiler.branch_counts(rule, ctx)
    row = _rows(engine, counts)[0]
    branches = [(path, int(n or 0)) for path, n in zip(paths, row, strict=True)]
    t = ctx.profiles
    picked = compiler.members(rule, ctx).order_by("profile_id").limit(sample)
    columns = ("profile_id", "name", "phone", "email", "lifecycle_stage", "rfm_group",
               "clv_12m")
    joined = picked.join(ctx.table("profiles"), "profile_id").join(t, "profile_id")
    rows = _rows(engine, joined.select(*columns).order_by("profile_id"))
    return Preview(branches[0][1], branches, [dict(zip(columns, r, strict=True)) for r in rows])


def sql(engine: Any, rule: Rule, *, as_of: datetime | None = None) -> str:
    """The SQL the rule runs as (``sen segment sql``)."""
    return ibis.to_sql(compiler.members(rule, _ctx(engine, as_of)), dialect="duckdb")
