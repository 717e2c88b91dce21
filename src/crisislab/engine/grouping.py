"""Grouping equal integer keys: what ``np.unique(keys, return_index=True,
return_inverse=True)`` gives, without its stable sort.

The engine merges rows whose states met again, and the agents choose once per distinct
situation, by grouping 64-bit hashes of rows; numpy's ``unique`` asks for a stable sort
to find each group's first member, which for tens of thousands of keys is several
times the cost of an ordinary sort. Here the keys are sorted by any sort, and each
group's first member is the smallest index in it: the same groups, in the same order
(by key), with the same first members, so nothing downstream can tell the difference."""

from __future__ import annotations

import numpy as np


def first_and_inverse(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For 1-D integer ``keys``: the index of the first occurrence of each distinct key,
    in increasing order of key, and per key the index of its group; exactly
    ``np.unique(keys, return_index=True, return_inverse=True)[1:]`` (the inverse flat)."""
    if keys.ndim != 1 or keys.dtype.kind not in "iub":
        _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        return first, inverse.reshape(-1)
    n = keys.size
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    order = np.argsort(keys)
    ordered = keys[order]
    starts = np.empty(n, dtype=bool)
    starts[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=starts[1:])
    first = np.minimum.reduceat(order, np.flatnonzero(starts)).astype(np.int64, copy=False)
    inverse = np.empty(n, dtype=np.int64)
    inverse[order] = np.cumsum(starts) - 1
    return first, inverse
