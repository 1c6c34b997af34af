"""Identity resolution: accuracy against the demo's ground truth, and speed.

    python benchmarks/identity.py --scale small|full [--keep DIR]

Generates the synthetic retailer (10k people for ``small``, 1M for ``full``),
loads it through Sen's import path (not timed here), then measures:

* ``full_resolution_s``: :func:`sen.identity.resolver.rebuild` over the kept
  evidence (what a change of merge rules runs): link every record into
  profiles, log the merges, write every golden record. The table also shows
  the cold rebuild from the raw log (read every identifier out of every
  event, normalise with nothing cached, then the same).
* ``precision`` / ``recall``: pairwise, against ground truth, over records the
  truth ties to a person (see :mod:`sen.demo.evaluate`; recall counts pairs
  the data can link, ``recall_all`` every pair).
* ``precision_with_review`` / ``recall_with_review``: after probable
  duplicates are scored with Splink and a reviewer who knows the truth answers
  the queue (the queue's own precision, the reviewer's workload, is printed).
* ``incremental_10k_s``: :func:`sen.identity.resolver.update`, commit
  included, run on the event writer's thread as ``sen serve`` runs it, after
  10,000 new events arrive through the writer (logins of known visitors, new
  visitors, orders with known phones, new emails).
* ``lookup_p99_ms``: :func:`sen.identity.profiles.lookup` (what
  ``GET /api/profiles/lookup`` runs) for 2,000 distinct phones typed in
  assorted forms.

Ends with one line of JSON (figure names fixed in shared/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from sen.demo import generate
from sen.demo.evaluate import score
from sen.demo.load import load
from sen.identity import decisions, profiles, resolver
from sen.ingest.spec import validate_event
from sen.ingest.writer import EventWriter
from sen.store import operational
from sen.store.analytics import DuckDBEngine

SCALES = {"small": 10_000, "full": 1_000_000}
NEW_EVENTS = 10_000


def prepare(workdir: Path, customers: int) -> tuple[Path, DuckDBEngine]:
    """Generate and load the retailer once; reuse it when ``workdir`` holds it."""
    demo, db = workdir / "demo", workdir / "sen.duckdb"
    if not (workdir / "loaded").exists():
        shutil.rmtree(demo, ignore_errors=True)
        db.unlink(missing_ok=True)
        t0 = time.perf_counter()
        generate(demo, customers=customers, seed=42)
        engine = DuckDBEngine(db)
        ops = operational.connect(f"sqlite:///{workdir / 'ops.db'}")
        load(demo, engine, ops, quarantine_dir=workdir / "quarantine",
             timezone="Asia/Ho_Chi_Minh")
        ops.dispose()
        (workdir / "loaded").write_text("yes")
        print(f"generated and loaded {customers:,} people in {time.perf_counter() - t0:.0f} s")
        return demo, engine
    engine = DuckDBEngine(db)
    engine.execute("DELETE FROM events WHERE message_id LIKE 'bench%'")  # a previous run's
    return demo, engine


def cold_rebuild(engine: DuckDBEngine) -> resolver.RunStats:
    for table in ("identity_normal", "identity_names", "identity_overrides",
                  "identity_merge_log", "identity_candidates"):
        engine.execute(f"DELETE FROM {table}")
    engine.execute("CHECKPOINT")
    return resolver.rebuild(engine)


def review_with_truth(engine: DuckDBEngine, demo: Path) -> tuple[int, int]:
    """Answer the queue as a reviewer who knows who is who; (approved, rejected)."""
    cur = engine.cursor()
    person = dict(cur.execute(f"""
        SELECT 'u:' || value, person_id FROM read_parquet('{demo}/ground_truth/records.parquet')
        WHERE kind IN ('customer_id', 'user_id', 'zalo_id') AND person_id IS NOT NULL
    """).fetchall())
    queue = [(p["record_a"], p["record_b"]) for p in decisions.pending(cur, limit=10_000_000)]
    same = [(a, b) for a, b in queue if person.get(a) is not None
            and person.get(a) == person.get(b)]
    for a, b in set(queue) - set(same):
        decisions.decide(engine, a, b, approve=False, actor="benchmark")
    if same:
        decisions.link_many(engine, same, actor="benchmark", note="approved duplicate")
    return len(same), len(queue) - len(same)


def new_events(engine: DuckDBEngine, n: int, seed: int = 7) -> list[tuple]:
    """``n`` realistic new events touching existing customers and visitors."""
    rng = random.Random(seed)
    cur = engine.cursor()
    # An anonymous visitor and a phone of one profile: she logs in on a new account.
    visits = cur.execute("""
        SELECT a.value, p.value FROM identity_profiles ip
        JOIN identity_observations a ON a.record = ip.record AND a.id_type = 'anonymous_id'
        JOIN identity_profiles iq ON iq.profile_id = ip.profile_id
        JOIN identity_observations p ON p.record = iq.record AND p.id_type = 'phone'
        WHERE ip.record LIKE 'a:%' AND p.value IS NOT NULL
        USING SAMPLE 3000 ROWS""").fetchall()
    users = cur.execute("SELECT value FROM identity_observations WHERE id_type = 'user_id' "
                        "AND value LIKE 'KH%' USING SAMPLE 3000 ROWS").fetchall()
    phones = [r[0] for r in cur.execute(
        "SELECT value FROM identity_observations WHERE id_type = 'phone' AND value IS NOT NULL "
        "USING SAMPLE 3000 ROWS").fetchall()]
    now = datetime.now(UTC).replace(tzinfo=None)
    out = []
    for i in range(n):
        ts = (now - timedelta(seconds=n - i)).isoformat() + "Z"
        kind = i % 10
        if kind < 4:  # a new visitor browses
            ev = {"type": "page", "anonymousId": f"bench-anon-{i // 4}", "name": "Sản phẩm"}
        elif kind < 6:  # a known visitor logs in
            anon, phone = rng.choice(visits)
            ev = {"type": "identify", "anonymousId": anon, "userId": f"UB{i:06d}",
                  "traits": {"phone": "0" + phone[3:]}}
        elif kind < 8:  # a POS customer gives a new email
            ev = {"type": "identify", "userId": rng.choice(users)[0],
                  "traits": {"email": f"khach{seed}x{i}@gmail.com"}}
        else:  # a guest order with a known phone
            ev = {"type": "track", "event": "Order Completed", "anonymousId": f"pos:order:B{i}",
                  "properties": {"order_id": f"B{i}", "total": 990000, "channel": "store",
                                 "phone": rng.choice(phones)}}
        ev.update(messageId=f"bench-{i}", timestamp=ts)
        out.append(validate_event(ev, source="web", received_at=now))
    return out


def _timed(fn):  # noqa: ANN001, ANN202
    t0 = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - t0


def lookup_latencies(engine: DuckDBEngine, n: int = 2000) -> np.ndarray:
    """Phones a hotline agent types: distinct numbers, each as likely as another."""
    cur = engine.cursor()
    phones = [r[0] for r in cur.execute(
        f"SELECT value FROM (SELECT DISTINCT value FROM identity_observations "
        f"WHERE id_type = 'phone' AND value IS NOT NULL) USING SAMPLE {n} ROWS").fetchall()]
    typed = [p if i % 3 == 0 else ("0" + p[3:] if i % 3 == 1 else f"0{p[3:6]} {p[6:9]} {p[9:]}")
             for i, p in enumerate(phones)]
    profiles.lookup(cur, "phone", typed[0])  # warm
    times = []
    for t in typed:
        t0 = time.perf_counter()
        found = profiles.lookup(cur, "phone", t)
        times.append((time.perf_counter() - t0) * 1000)
        assert found, f"no profile for {t}"
    return np.array(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", choices=SCALES, default="small")
    parser.add_argument("--keep", type=Path, help="Folder to keep the loaded retailer in "
                        "(reused by the next run).")
    args = parser.parse_args()
    customers = SCALES[args.scale]
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="sen-identity-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    demo, engine = prepare(workdir, customers)
    try:
        cold, cold_s = _timed(lambda: cold_rebuild(engine))
        full, full_s = _timed(lambda: resolver.rebuild(engine, reread_log=False))
        identifiers = engine.execute("SELECT count(*) FROM (SELECT DISTINCT id_type, value "
                                     "FROM identity_observations WHERE value IS NOT NULL)"
                                     ).fetchall()[0][0]
        det = score(engine.cursor(), demo)
        det_wide = score(engine.cursor(), demo, with_duplicates=True)
        t0 = time.perf_counter()
        waiting = decisions.score_candidates(engine)
        scoring_s = time.perf_counter() - t0
        approved, rejected = review_with_truth(engine, demo)
        rev = score(engine.cursor(), demo, with_duplicates=True)
        lookups = lookup_latencies(engine)
        # As in `sen serve`: events through the writer, then the identity update
        # on the writer's thread, timed with its commit.
        writer = EventWriter(engine).start()
        writer.write_sync(new_events(engine, NEW_EVENTS))
        inc, inc_s = _timed(lambda: writer.run_exclusive(lambda: resolver.update(engine)))
        writer.stop()
        profiles_n = engine.execute("SELECT count(*) FROM profiles").fetchall()[0][0]
    finally:
        engine.close()
        if args.keep is None:
            shutil.rmtree(workdir, ignore_errors=True)
    figures = {
        "precision": round(det.precision, 5), "recall": round(det.recall, 5),
        "precision_with_review": round(rev.precision, 5),
        "recall_with_review": round(rev.recall, 5),
        "full_resolution_s": round(full_s, 2),
        "identifiers": identifiers,
        "incremental_10k_s": round(inc_s, 3),
        "lookup_p99_ms": round(float(np.percentile(lookups, 99)), 2),
    }
    rows = [
        ("people (truth)", f"{customers:,}"), ("profiles", f"{profiles_n:,}"),
        ("records", f"{full.records:,}"), ("identifiers", f"{identifiers:,}"),
        ("full resolution s", f"{figures['full_resolution_s']} "
         f"({', '.join(f'{k} {v}' for k, v in full.seconds.items())})"),
        ("cold rebuild from the log s", f"{cold_s:.2f} "
         f"({', '.join(f'{k} {v}' for k, v in cold.seconds.items())}; "
         f"{cold.events:,} events)"),
        ("precision / recall", f"{det.precision:.4f} / {det.recall:.4f} "
         f"(recall over all pairs, linkable or not: {det.recall_all:.4f})"),
        ("probable duplicates", f"{waiting:,} in the queue, scored in {scoring_s:.1f} s; "
         f"{approved:,} true, {rejected:,} not (queue precision "
         f"{approved / max(approved + rejected, 1):.3f})"),
        ("with review: precision / recall", f"{rev.precision:.4f} / {rev.recall:.4f} "
         f"(recall over the same pairs before review: {det_wide.recall:.4f})"),
        ("incremental 10k events s", f"{figures['incremental_10k_s']} "
         f"({', '.join(f'{k} {v}' for k, v in inc.seconds.items())}; "
         f"{inc.merges} merges, {inc.profiles_touched} profiles touched)"),
        ("lookup ms p50 / p99", f"{np.percentile(lookups, 50):.2f} / "
         f"{figures['lookup_p99_ms']}"),
    ]
    width = max(len(k) for k, _ in rows)
    print(f"\nIdentity resolution ({args.scale})")
    for k, v in rows:
        print(f"  {k:<{width}}  {v}")
    print(json.dumps({"benchmark": "identity", "scale": args.scale,
                      "machine": {"cores": os.cpu_count()}, "figures": figures,
                      "targets": {"precision": 0.99, "recall": 0.98, "full_resolution_s": 60,
                                  "incremental_10k_s": 2, "lookup_p99_ms": 100}}))


if __name__ == "__main__":
    main()
