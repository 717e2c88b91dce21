"""The engine's grouping of equal keys gives exactly what numpy's ``unique`` gives."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from crisislab.engine.grouping import first_and_inverse

DTYPES = st.sampled_from([np.uint64, np.int64, np.int32, np.uint8, np.bool_])


@st.composite
def keys(draw: st.DrawFn) -> np.ndarray:
    """Keys with many repeats (drawn from a small pool), of any size from none."""
    dtype = np.dtype(draw(DTYPES))
    pool = draw(arrays(dtype, st.integers(1, 12)))
    picks = draw(arrays(np.int64, st.integers(0, 400), elements=st.integers(0, pool.size - 1)))
    return pool[picks]


@settings(max_examples=300, deadline=None)
@given(keys())
def test_first_and_inverse_is_numpys_unique(k: np.ndarray) -> None:
    _, first, inverse = np.unique(k, return_index=True, return_inverse=True)
    got_first, got_inverse = first_and_inverse(k)
    np.testing.assert_array_equal(got_first, first)
    np.testing.assert_array_equal(got_inverse, inverse.reshape(-1))
    assert got_first.dtype == np.int64 and got_inverse.dtype == np.int64


def test_the_first_member_is_the_smallest_index_even_when_the_sort_is_not_stable() -> None:
    """Quicksort moves equal keys about; each group's first member is still its first
    index, as with numpy's stable sort."""
    rng = np.random.default_rng(0)
    k = rng.integers(0, 50, size=100_000).astype(np.uint64) * np.uint64(2**40)
    _, first, inverse = np.unique(k, return_index=True, return_inverse=True)
    got_first, got_inverse = first_and_inverse(k)
    np.testing.assert_array_equal(got_first, first)
    np.testing.assert_array_equal(got_inverse, inverse)


def test_other_keys_go_to_numpy() -> None:
    k = np.array([2.5, np.nan, 2.5, 1.0])
    first, inverse = first_and_inverse(k)
    _, f, i = np.unique(k, return_index=True, return_inverse=True)
    np.testing.assert_array_equal(first, f)
    np.testing.assert_array_equal(inverse, i)
