"""Score Sen's identity resolution against the synthetic retailer's ground truth.

Each Sen record is matched to the true person behind it: POS customers,
web/app user ids and Zalo followers by their id, devices by anonymousId,
marketplace buyers by ``platform:buyer`` and guest walk-in invoices by order
number. Precision and recall are pairwise over those records: of the pairs
Sen put in one profile, how many are one person; of the pairs that are one
person, how many Sen put together. Records the truth does not tie to a person
(visitors who never identified) are left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


@dataclass(frozen=True)
class Scores:
    """Pairwise scores. ``recall`` counts only pairs the data can link;
    ``recall_all`` counts every pair of one person's records."""

    precision: float
    recall: float
    recall_all: float
    records: int
    linkable_pairs: int
    all_pairs: int
    predicted_pairs: int
    correct_pairs: int


def truth_sql(demo_dir: Path) -> str:
    """``(record, person_id)`` for every Sen record the ground truth knows."""
    gt = Path(demo_dir) / "ground_truth"
    recs, orders = gt / "records.parquet", gt / "orders.parquet"
    return f"""
    SELECT DISTINCT record, person_id FROM (
        SELECT CASE WHEN kind IN ('customer_id', 'user_id', 'zalo_id') THEN 'u:' || value
                    WHEN kind = 'anonymous_id' THEN 'a:' || value
                    WHEN kind = 'buyer_id' THEN 'a:' || namespace || ':' || lower(value)
               END AS record, person_id
        FROM read_parquet('{recs}')
        WHERE person_id IS NOT NULL
          AND kind IN ('customer_id', 'user_id', 'zalo_id', 'anonymous_id', 'buyer_id')
        UNION ALL
        SELECT 'a:pos:order:' || order_id, person_id FROM read_parquet('{orders}')
        WHERE channel = 'store'
    )
    """


def score(cur: Any, demo_dir: Path, mapping: str = "identity_profiles", *,
          with_duplicates: bool = False) -> Scores:
    """Pairwise precision and recall of ``mapping`` (record, profile_id) against the truth.

    A pair is *linkable* when a chain of one person's records, each sharing
    with the next a normalised identifier value that belongs to that person
    alone, joins them: no resolver can link records with no evidence in
    common (a device never used while logged in; a marketplace buyer whose
    phone is masked), and a store's phone typed for many customers is no
    one's key. ``with_duplicates`` also
    counts the planted POS duplicates (typo'd or second phones) as evidence,
    the pairs a reviewer can approve.
    """
    cur.execute(f"""
        CREATE OR REPLACE TEMP TABLE _eval AS
        SELECT t.record, t.person_id, m.profile_id,
               row_number() OVER (ORDER BY t.record) - 1 AS code
        FROM ({truth_sql(demo_dir)}) t JOIN {mapping} m USING (record)
    """)
    edges = cur.execute("""
        WITH v AS (
            SELECT DISTINCT e.code, e.person_id, o.id_type, o.value
            FROM _eval e JOIN identity_observations o USING (record)
            WHERE o.value IS NOT NULL
        ), own AS (
            SELECT id_type, value FROM v GROUP BY ALL HAVING count(DISTINCT person_id) = 1
        )
        SELECT min(code) OVER (PARTITION BY id_type, value) AS a, code AS b
        FROM v JOIN own USING (id_type, value)
    """).fetchnumpy()
    a, b = [edges["a"]], [edges["b"]]
    if with_duplicates:
        dup = cur.execute(f"""
            SELECT x.code AS a, y.code AS b
            FROM read_parquet('{Path(demo_dir) / "ground_truth" / "duplicates.parquet"}') d
            JOIN _eval x ON x.record = 'u:' || d.customer_id_a
            JOIN _eval y ON y.record = 'u:' || d.customer_id_b
        """).fetchnumpy()
        a.append(dup["a"])
        b.append(dup["b"])
    n = cur.execute("SELECT count(*) FROM _eval").fetchall()[0][0]
    graph = coo_matrix((np.ones(sum(len(x) for x in a), np.int8),
                        (np.concatenate(a).astype(np.int64), np.concatenate(b).astype(np.int64))),
                       shape=(n, n))
    _, label = connected_components(graph, directed=False)
    cur.register("_eval_reach", pa.table({"code": np.arange(n), "reach": label}))
    row = cur.execute("""
        WITH j AS (SELECT * FROM _eval JOIN _eval_reach USING (code))
        SELECT (SELECT count(*) FROM j),
               (SELECT sum(n * (n - 1) / 2) FROM (SELECT count(*) AS n FROM j
                                                  GROUP BY person_id, reach)),
               (SELECT sum(n * (n - 1) / 2) FROM (SELECT count(*) AS n FROM j GROUP BY person_id)),
               (SELECT sum(n * (n - 1) / 2) FROM (SELECT count(*) AS n FROM j GROUP BY profile_id)),
               (SELECT sum(n * (n - 1) / 2) FROM (SELECT count(*) AS n FROM j
                                                  GROUP BY profile_id, person_id, reach)),
               (SELECT sum(n * (n - 1) / 2) FROM (SELECT count(*) AS n FROM j
                                                  GROUP BY profile_id, person_id))
    """).fetchall()[0]
    cur.unregister("_eval_reach")
    records, linkable, all_pairs, predicted, correct, correct_any = (int(x or 0) for x in row)
    return Scores(
        precision=correct_any / predicted if predicted else 1.0,
        recall=correct / linkable if linkable else 1.0,
        recall_all=correct_any / all_pairs if all_pairs else 1.0,
        records=records, linkable_pairs=linkable, all_pairs=all_pairs,
        predicted_pairs=predicted, correct_pairs=correct_any,
    )
