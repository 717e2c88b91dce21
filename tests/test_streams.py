"""Per-crisis random streams: reproducible, independent of batching, uniform."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from crisislab.engine.streams import BLOCK, CrisisStreams


def test_same_seed_same_draws() -> None:
    a = CrisisStreams(5, np.arange(1000)).uniform(3, 7)
    b = CrisisStreams(5, np.arange(1000)).uniform(3, 7)
    assert np.array_equal(a, b)


@settings(max_examples=200, deadline=None)
@given(
    seed=st.integers(0, 2**63),
    i=st.integers(0, 10 * BLOCK),
    turn=st.integers(0, 500),
    stream=st.integers(0, 5000),
)
def test_a_crisis_draws_the_same_alone_or_in_a_batch(
    seed: int, i: int, turn: int, stream: int
) -> None:
    ids = np.arange(max(0, i - 5), i + 5)
    batch = CrisisStreams(seed, ids).uniform(turn, stream)
    alone = CrisisStreams(seed, np.array([i])).uniform(turn, stream)
    assert batch[list(ids).index(i)] == alone[0]
    assert 0.0 <= alone[0] < 1.0


def test_subset_keeps_keys() -> None:
    s = CrisisStreams(9, np.arange(100))
    rows = np.array([3, 50, 99])
    assert np.array_equal(s.subset(rows).uniform(1, 2), s.uniform(1, 2)[rows])


def test_draws_look_uniform_and_independent() -> None:
    s = CrisisStreams(2026, np.arange(200_000))
    a, b, c = s.uniform(0, 0), s.uniform(0, 1), s.uniform(1, 0)
    for x in (a, b, c):
        assert stats.kstest(x, "uniform").pvalue > 1e-4
    # neighbouring streams and turns are uncorrelated (|r| ~ 1/sqrt(n) = 0.002)
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.015
    assert abs(np.corrcoef(a, c)[0, 1]) < 0.015
    # neighbouring crises too
    assert abs(np.corrcoef(a[:-1], a[1:])[0, 1]) < 0.015


def test_different_seeds_give_different_streams() -> None:
    a = CrisisStreams(1, np.arange(1000)).uniform(0, 0)
    b = CrisisStreams(2, np.arange(1000)).uniform(0, 0)
    assert not np.array_equal(a, b)
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.15
