"""The in-memory key set agrees with a plain Python set through every tier."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sen.ingest import dedupe
from sen.ingest.dedupe import SeenKeys, merge_sorted

keys_strategy = st.lists(st.integers(min_value=0, max_value=2**64 - 1), max_size=40)


@settings(max_examples=60, deadline=None)
@given(st.lists(keys_strategy, max_size=50), keys_strategy)
def test_membership_matches_a_set(batches, probes):
    dedupe._CHUNKS_PER_FOLD, dedupe._MID_TIER_MAX = 3, 40  # exercise every fold
    try:
        seen, truth = SeenKeys(np.array(batches[0] if batches else [], dtype=np.uint64)), set()
        truth.update(batches[0] if batches else [])
        for batch in batches[1:]:
            seen.add_array(np.array(batch, dtype=np.uint64))
            truth.update(batch)
        everything = sorted(truth) + probes
        got = seen.contains_many(np.array(everything, dtype=np.uint64))
        assert got.tolist() == [k in truth for k in everything]
    finally:
        dedupe._CHUNKS_PER_FOLD, dedupe._MID_TIER_MAX = 32, 2_000_000


def test_merge_sorted_keeps_order_and_drops_repeats():
    merged = merge_sorted(np.array([1, 5, 9], np.uint64), np.array([0, 5, 7, 10], np.uint64))
    assert merged.tolist() == [0, 1, 5, 7, 9, 10]
