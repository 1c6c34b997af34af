"""Which messageIds the event log already holds, answered without a scan.

The HTTP path commits a few thousand events at a time, many times a second; an
anti-join against the whole log on every commit would grow with the log. So
the writer keeps the 64-bit keys of every stored event in memory as sorted
NumPy arrays (8 bytes per event; 100M events take 800 MB), in three tiers
like a small log-structured merge tree: each commit's keys as a sorted chunk,
chunks merged into a mid-sized tier every few dozen commits, and that tier
merged into the base when it grows. Merges of sorted arrays are linear
(``searchsorted`` + ``insert``), probes are ``searchsorted``: all vectorised.
A key match is only a *candidate*: the exact messageIds are confirmed in the
store, so a 64-bit collision never drops an event.
"""

from __future__ import annotations

import numpy as np

_CHUNKS_PER_FOLD = 32
_MID_TIER_MAX = 2_000_000


def _member(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    if not sorted_keys.size:
        return np.zeros(keys.shape, dtype=bool)
    pos = np.searchsorted(sorted_keys, keys)
    pos[pos == sorted_keys.size] = 0
    return sorted_keys[pos] == keys


def merge_sorted(big: np.ndarray, small: np.ndarray) -> np.ndarray:
    """Two sorted key arrays as one sorted array without repeats, in linear time."""
    small = small[~_member(big, small)]
    if not small.size:
        return big
    return np.insert(big, np.searchsorted(big, small), small)


class SeenKeys:
    """A set of uint64 keys, cheap to probe and extend in bulk."""

    def __init__(self, keys: np.ndarray | None = None) -> None:
        self._base = np.unique(np.asarray(keys if keys is not None else [], dtype=np.uint64))
        self._mid = np.zeros(0, dtype=np.uint64)
        self._chunks: list[np.ndarray] = []

    def contains_many(self, keys: np.ndarray) -> np.ndarray:
        """A boolean mask: which of ``keys`` are (probably) present."""
        keys = np.asarray(keys, dtype=np.uint64)
        found = _member(self._base, keys) | _member(self._mid, keys)
        for chunk in self._chunks:
            found |= _member(chunk, keys)
        return found

    def add_array(self, keys: np.ndarray) -> None:
        """Add keys (a commit's, or a bulk import's)."""
        keys = np.unique(np.asarray(keys, dtype=np.uint64))
        if not keys.size:
            return
        self._chunks.append(keys)
        if len(self._chunks) >= _CHUNKS_PER_FOLD:
            self._mid = merge_sorted(self._mid, np.unique(np.concatenate(self._chunks)))
            self._chunks = []
            if self._mid.size >= _MID_TIER_MAX:
                self._base = merge_sorted(self._base, self._mid)
                self._mid = np.zeros(0, dtype=np.uint64)
