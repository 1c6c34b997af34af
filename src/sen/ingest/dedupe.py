"""Which messageIds the event log already holds, answered without a scan.

The HTTP path commits a few thousand events at a time, many times a second; an
anti-join against the whole log on every commit would grow with the log. So
the writer keeps the 64-bit keys of every stored event in memory: a sorted
NumPy array (8 bytes per event; 100M events take 800 MB) plus a set of keys
added since it was last sorted. A key match is only a *candidate*: the exact
messageIds are confirmed in the store, so a 64-bit collision never drops an
event.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

_MERGE_AT = 1_000_000


class SeenKeys:
    """A set of uint64 keys, cheap to probe in bulk."""

    def __init__(self, keys: np.ndarray | None = None) -> None:
        base = np.asarray(keys if keys is not None else [], dtype=np.uint64)
        self._base = np.unique(base)
        self._recent: set[int] = set()

    def __len__(self) -> int:
        return int(self._base.size) + len(self._recent)

    def contains_many(self, keys: np.ndarray) -> np.ndarray:
        """A boolean mask: which of ``keys`` are (probably) present."""
        keys = np.asarray(keys, dtype=np.uint64)
        if self._base.size:
            pos = np.searchsorted(self._base, keys)
            pos[pos == self._base.size] = 0
            found = self._base[pos] == keys
        else:
            found = np.zeros(keys.shape, dtype=bool)
        if self._recent:
            recent = self._recent
            found |= np.fromiter((k in recent for k in keys.tolist()), dtype=bool,
                                 count=keys.size)
        return found

    def add_many(self, keys: Iterable[int]) -> None:
        """Add a commit's worth of keys (Python ints); merged into the sorted base later."""
        self._recent.update(keys)
        if len(self._recent) >= _MERGE_AT:
            self._merge()

    def add_array(self, keys: np.ndarray) -> None:
        """Add many keys at once (a bulk import), merging straight into the sorted base."""
        self._base = np.union1d(self._base, np.asarray(keys, dtype=np.uint64))

    def _merge(self) -> None:
        extra = np.fromiter(self._recent, dtype=np.uint64, count=len(self._recent))
        self._base = np.union1d(self._base, extra)
        self._recent = set()
