"""Computing traits into the store: full refreshes, incremental updates, on demand.

* :func:`refresh` recomputes every profile as of a moment, refits the models
  (BG/NBD, Gamma-Gamma, RFM cut points) and stores them with the run.
* :func:`update` recomputes only the profiles whose data changed since the
  last run (new events of their records, or identity merging or splitting
  them), with the stored models, so a profile updated between two refreshes
  is scored by the same yardstick as everyone else.
* :func:`compute_profiles` recomputes named profiles now (the 360 asks).

Every run is one transaction over the same SQL (:mod:`sen.traits.builtin`);
the scope is the only difference, which is what makes an update agree with a
refresh. Time-relative traits (days since the last purchase, age, stage) are
as of the run's ``as_of``; a daily refresh moves everyone forward.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa

from sen.store.analytics import DuckDBEngine
from sen.store.settings import read_meta, write_meta
from sen.traits import builtin, custom, predict
from sen.traits.config import TraitsConfig, store, stored
from sen.traits.scope import prepare_scope

log = logging.getLogger(__name__)

_EVENTS_MARK = "traits_rowid"
_MERGES_MARK = "traits_merge_log_at"
_MODELS = "traits_models"
_IDENTITY_MARK = "identity_rowid"
_ORDERS_MARK = "traits_orders_by_profile"  # set once a full run has filled profile_orders
_PER_PROFILE = ("profile_traits", "profile_trait_periods", "custom_trait_values",
                "profile_orders", "profile_order_lines")


@dataclass
class TraitRun:
    """What a run did: its kind, scope size, time per step and the models used."""

    kind: str
    as_of: datetime
    profiles: int = 0
    seconds: float = 0.0
    steps: dict[str, float] = field(default_factory=dict)
    models: dict[str, Any] | None = None


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def refresh(engine: DuckDBEngine, *, as_of: datetime | None = None,
            config: TraitsConfig | None = None, refit: bool = True) -> TraitRun:
    """Recompute every profile and refit the models (``refit=False`` keeps the stored
    ones); ``config`` replaces the stored settings."""
    return _run(engine, "full", as_of or now(), config=config, refit=refit)


def update(engine: DuckDBEngine, *, as_of: datetime | None = None) -> TraitRun:
    """Recompute the profiles changed since the last run (a refresh if there was none)."""
    return _run(engine, "incremental", as_of or now())


def compute_profiles(engine: DuckDBEngine, profile_ids: Iterable[str], *,
                     as_of: datetime | None = None) -> TraitRun:
    """Recompute the given profiles now, with the stored models."""
    return _run(engine, "profiles", as_of or now(), profile_ids=list(profile_ids))


def _run(engine: DuckDBEngine, kind: str, as_of: datetime, *,
         config: TraitsConfig | None = None, profile_ids: list[str] | None = None,
         refit: bool = True) -> TraitRun:
    started = time.perf_counter()
    run = TraitRun(kind, as_of)
    cur = engine.cursor()
    cur.execute("BEGIN TRANSACTION")
    try:
        if config is not None:
            store(cur, config)
        settings = stored(cur)
        models = _stored_models(cur)
        if kind != "full" and (models is None or not read_meta(cur, _ORDERS_MARK, "")):
            kind = run.kind = "full"  # a first run, or a store from before orders by profile
        _step(run, "scope", lambda: _scope(cur, run, as_of, profile_ids))
        if run.profiles:
            if models is None or (run.kind == "full" and (refit or config is not None)):
                models = None
            _compute(cur, run, as_of, settings, models)
        _step(run, "orders_by_profile", lambda: _orders_by_profile(cur, run))
        _marks(cur, run)
        run.seconds = time.perf_counter() - started
        cur.execute("INSERT INTO trait_runs VALUES (?, ?, ?, ?, ?, ?)",
                    [now(), as_of, run.kind, run.profiles, run.seconds,
                     json.dumps(run.models) if run.models else None])
        cur.execute("COMMIT")
    except BaseException:
        cur.execute("ROLLBACK")
        raise
    run.seconds = time.perf_counter() - started
    return run


def _step(run: TraitRun, name: str, fn: Callable[[], Any]) -> Any:
    t0 = time.perf_counter()
    result = fn()
    run.steps[name] = run.steps.get(name, 0.0) + time.perf_counter() - t0
    return result


def _scope(cur: Any, run: TraitRun, as_of: datetime, profile_ids: list[str] | None) -> None:
    if run.kind == "full":
        run.profiles = prepare_scope(cur, as_of)
    elif run.kind == "profiles":
        run.profiles = prepare_scope(cur, as_of, profile_ids or [])
    else:
        _changed_profiles(cur)
        for table in _PER_PROFILE:
            cur.execute(f"DELETE FROM {table} WHERE profile_id IN "  # merged away
                        "(SELECT profile_id FROM _trait_changed "
                        " WHERE profile_id NOT IN (SELECT profile_id FROM profiles))")
        run.profiles = prepare_scope(cur, as_of,
                                     scope_sql="SELECT profile_id FROM _trait_changed")


def _changed_profiles(cur: Any) -> None:
    """Profiles with new events (up to what identity has folded in) or new merges/splits."""
    start = read_meta(cur, _EVENTS_MARK, "0")
    end = read_meta(cur, _IDENTITY_MARK, "0")
    since = read_meta(cur, _MERGES_MARK, "1970-01-01 00:00:00")
    cur.execute(f"""
        CREATE OR REPLACE TEMP TABLE _trait_changed AS
        WITH e AS MATERIALIZED (
            SELECT DISTINCT {builtin.record_key()} AS record FROM events
            WHERE rowid >= {int(start)} AND rowid < {int(end)}
        )
        SELECT DISTINCT ip.profile_id FROM e JOIN identity_profiles ip USING (record)
        UNION
        SELECT unnest(list_append(other_profiles, profile_id)) FROM identity_merge_log
        WHERE logged_at > ?::TIMESTAMP
    """, [since])


def _marks(cur: Any, run: TraitRun) -> None:
    """Remember how far the log and the merge log have been taken into account."""
    identity_mark = read_meta(cur, _IDENTITY_MARK, "0")
    merges = cur.execute("SELECT max(logged_at) FROM identity_merge_log").fetchall()[0][0]
    write_meta(cur, _EVENTS_MARK, identity_mark)
    if merges is not None:
        write_meta(cur, _MERGES_MARK, str(merges))


def _stored_models(cur: Any) -> predict.Models | None:
    raw = read_meta(cur, _MODELS, "")
    return predict.Models.from_dict(json.loads(raw)) if raw else None


def _compute(cur: Any, run: TraitRun, as_of: datetime, settings: TraitsConfig,
             models: predict.Models | None) -> None:
    _step(run, "orders", lambda: cur.execute(builtin.ORDER_AGGREGATES,
                                             [as_of, settings.recent_days]))
    _step(run, "purchase_days", lambda: cur.execute(builtin.PURCHASE_DAYS))
    _step(run, "lines", lambda: cur.execute(builtin.PURCHASED_LINES))
    _step(run, "items", lambda: cur.execute(builtin.ITEMS))
    for sql in builtin.FAVOURITES:
        _step(run, "favourites", lambda sql=sql: cur.execute(sql))
    _step(run, "engagement", lambda: cur.execute(builtin.engagement_sql(), [as_of]))
    _step(run, "consent", lambda: cur.execute(builtin.consent_sql(), [as_of]))
    _step(run, "people", lambda: _people(cur, as_of))
    _step(run, "base", lambda: cur.execute(builtin.BASE, [as_of]))
    histories = _step(run, "read", lambda: _histories(cur))
    if models is None:
        models = _step(run, "fit", lambda: predict.fit(histories, settings))
        write_meta(cur, _MODELS, json.dumps(models.as_dict()))
    run.models = models.as_dict()
    calc = _step(run, "predict", lambda: predict.predict(histories, models, settings))
    _step(run, "write", lambda: _write(cur, run, as_of, calc))
    _step(run, "custom", lambda: _custom(cur, as_of))


def _people(cur: Any, as_of: datetime) -> None:
    from sen.traits.regions import region_of

    raw = [r[0] for r in cur.execute(builtin.RAW_PROVINCES).fetchall()]
    mapped = [region_of(value) for value in raw]
    cur.register("_trait_regions_in", pa.table({
        "raw": pa.array(raw, pa.string()),
        "province": pa.array([m[0] for m in mapped], pa.string()),
        "region": pa.array([m[1] for m in mapped], pa.string())}))
    cur.execute("CREATE OR REPLACE TEMP TABLE _trait_regions AS SELECT * FROM _trait_regions_in")
    cur.unregister("_trait_regions_in")
    cur.execute(builtin.PEOPLE, [as_of])


def _histories(cur: Any) -> predict.Histories:
    cols = cur.execute("""
        SELECT purchase_days, t_x, age_days, repeat_value, days_since_last_purchase,
               previous_gap, orders, spend FROM _trait_base ORDER BY rn
    """).fetchnumpy()

    def floats(name: str) -> np.ndarray:
        return np.asarray(cols[name], dtype=np.float64)  # masked NULLs become NaN

    def filled(name: str) -> np.ndarray:
        values = cols[name]
        return np.ma.filled(values.astype(np.float64), np.nan) \
            if isinstance(values, np.ma.MaskedArray) else floats(name)

    return predict.Histories(
        purchase_days=filled("purchase_days").astype(np.int64), t_x=filled("t_x"),
        age_days=filled("age_days"), repeat_value=filled("repeat_value"),
        days_since=filled("days_since_last_purchase"), previous_gap=filled("previous_gap"),
        orders=filled("orders"), spend=filled("spend"))


def _write(cur: Any, run: TraitRun, as_of: datetime, calc: dict[str, np.ndarray]) -> None:
    n = len(calc["lifecycle_stage"])

    def nullable(values: np.ndarray, kind: pa.DataType) -> pa.Array:
        if values.dtype == object:
            return pa.array(list(values), kind)
        return pa.array(values, kind, mask=np.isnan(values))

    table = pa.table({
        "rn": pa.array(np.arange(n, dtype=np.int64)),
        "rfm_r": nullable(calc["rfm_r"], pa.int8()), "rfm_f": nullable(calc["rfm_f"], pa.int8()),
        "rfm_m": nullable(calc["rfm_m"], pa.int8()),
        "rfm_score": nullable(calc["rfm_score"], pa.string()),
        "rfm_group": nullable(calc["rfm_group"], pa.string()),
        "p_alive": nullable(calc["p_alive"], pa.float64()),
        "expected_purchases": nullable(calc["expected_purchases"], pa.float64()),
        "expected_order_value": nullable(calc["expected_order_value"], pa.float64()),
        "clv": nullable(calc["clv"], pa.float64()),
        "cycle_days": nullable(calc["cycle_days"], pa.float64()),
        "lifecycle_stage": nullable(calc["lifecycle_stage"], pa.string()),
    })
    cur.register("_trait_calc", table)
    if run.kind == "full":
        cur.execute("DELETE FROM profile_traits")
        cur.execute("DELETE FROM profile_trait_periods")
    else:
        cur.execute("DELETE FROM profile_traits WHERE profile_id IN "
                    "(SELECT profile_id FROM _trait_scope)")
        cur.execute("DELETE FROM profile_trait_periods WHERE profile_id IN "
                    "(SELECT profile_id FROM _trait_scope)")
    cur.execute(builtin.WRITE, [as_of, now()])
    cur.execute(builtin.PERIODS)
    cur.unregister("_trait_calc")


def _orders_by_profile(cur: Any, run: TraitRun) -> None:
    """Replace the scope's rows of ``profile_orders`` and ``profile_order_lines``."""
    for table in ("profile_orders", "profile_order_lines"):
        if run.kind == "full":
            cur.execute(f"DELETE FROM {table}")
        else:
            cur.execute(f"DELETE FROM {table} WHERE profile_id IN "
                        "(SELECT profile_id FROM _trait_scope)")
    cur.execute(builtin.ORDERS_BY_PROFILE)
    cur.execute(builtin.LINES_BY_PROFILE)
    if run.kind == "full":
        write_meta(cur, _ORDERS_MARK, "1")


def _custom(cur: Any, as_of: datetime) -> None:
    """User-defined traits, computed over the same scope."""
    custom.compute(cur, custom.definitions_on(cur), as_of)
