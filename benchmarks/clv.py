"""BG/NBD and Gamma-Gamma: Sen's fit against the lifetimes package on the same data.

    python benchmarks/clv.py --scale small|full

Generates the synthetic retailer without events (10k people for ``small``,
100k for the comparison and 1M for Sen alone at ``full``), turns each
person's completed orders into (frequency, recency, age) in days and a mean
order value, and fits both models with Sen and with ``lifetimes`` (best of three runs each).
Ends with one line of JSON (figure names fixed in shared/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
import warnings
from pathlib import Path

import duckdb
import numpy as np

from sen.demo import generate
from sen.traits.clv import fit_bgnbd, fit_gamma_gamma

SCALES = {"small": (10_000, 10_000), "full": (100_000, 1_000_000)}


def histories(people: int, workdir: Path) -> tuple[np.ndarray, ...]:
    """Per buyer: repeat purchases, day of the last one, age in days, mean order value."""
    out = workdir / f"retailer-{people}"
    generate(out, customers=people, seed=42, with_events=False)
    rows = duckdb.sql(f"""
        WITH o AS (
            SELECT person_id, ordered_at::DATE AS day, sum(total) AS total
            FROM read_parquet('{out}/ground_truth/orders.parquet')
            WHERE status = 'completed' GROUP BY ALL
        ), end_day AS (SELECT max(day) AS d FROM o)
        SELECT count(*) - 1 AS x, date_diff('day', min(day), max(day)) AS t_x,
               date_diff('day', min(day), (SELECT d FROM end_day)) AS age,
               coalesce(avg(total) FILTER (WHERE day > (SELECT min(day) FROM o o2
                                                        WHERE o2.person_id = o.person_id)),
                        0) AS m
        FROM o GROUP BY person_id
    """).fetchnumpy()
    return tuple(rows[k].astype(np.float64) for k in ("x", "t_x", "age", "m"))


def _timed(fn, repeat: int = 3):  # noqa: ANN001, ANN202
    """The result and the best of ``repeat`` wall times (first calls pay one-off costs)."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return result, best


def compare(x: np.ndarray, t_x: np.ndarray, age: np.ndarray, m: np.ndarray) -> dict:
    from lifetimes import BetaGeoFitter, GammaGammaFitter

    bg, bg_s = _timed(lambda: fit_bgnbd(x, t_x, age))
    gg, gg_s = _timed(lambda: fit_gamma_gamma(x, m))
    keep = (x > 0) & (m > 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref_bg, ref_bg_s = _timed(lambda: BetaGeoFitter().fit(x, t_x, age))
        ref_gg, ref_gg_s = _timed(lambda: GammaGammaFitter().fit(x[keep], m[keep]))
    diffs = [abs(ours[k] - theirs[k]) / abs(theirs[k])
             for ours, theirs in ((bg.as_dict(), ref_bg.params_.to_dict()),
                                  (gg.as_dict(), ref_gg.params_.to_dict()))
             for k in theirs]
    return {"sen_s": bg_s + gg_s, "lifetimes_s": ref_bg_s + ref_gg_s, "max_rel": max(diffs),
            "bg": bg, "gg": gg}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", choices=SCALES, default="small")
    args = parser.parse_args()
    compared, alone = SCALES[args.scale]
    workdir = Path(tempfile.mkdtemp(prefix="sen-clv-bench-"))
    try:
        data = histories(compared, workdir)
        result = compare(*data)
        big = data if alone == compared else histories(alone, workdir)
        _, big_s = _timed(lambda: (fit_bgnbd(*big[:3]), fit_gamma_gamma(big[0], big[3])))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    figures = {
        "sen_fit_s_100k": round(result["sen_s"], 3),
        "lifetimes_fit_s_100k": round(result["lifetimes_s"], 3),
        "speedup_vs_lifetimes": round(result["lifetimes_s"] / result["sen_s"], 2),
        "max_rel_param_diff": float(f"{result['max_rel']:.2e}"),
        "sen_fit_s_1m": round(big_s, 3),
    }
    print(f"\nCLV models ({args.scale}; {compared:,} people compared, {alone:,} fitted by Sen)")
    print(f"  buyers                         {len(data[0]):,}")
    print(f"  BG/NBD (Sen)                   {result['bg'].as_dict()}")
    print(f"  Gamma-Gamma (Sen)              {result['gg'].as_dict()}")
    print(f"  fit s: Sen / lifetimes         {figures['sen_fit_s_100k']} / "
          f"{figures['lifetimes_fit_s_100k']} ({figures['speedup_vs_lifetimes']}x)")
    print(f"  largest relative param diff    {figures['max_rel_param_diff']}")
    print(f"  Sen fit s at {alone:,} people   {figures['sen_fit_s_1m']}")
    print(json.dumps({"benchmark": "clv", "scale": args.scale, **figures}))


if __name__ == "__main__":
    main()
