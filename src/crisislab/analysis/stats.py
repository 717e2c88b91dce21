"""Intervals for proportions: Wilson's score interval and Newcombe's for a difference."""

from __future__ import annotations

import math

Z95 = 1.959963984540054  # the 0.975 quantile of the standard normal


def wilson(count: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson's score interval for a binomial proportion ``count / n``.

    E. B. Wilson, "Probable inference, the law of succession, and statistical
    inference", JASA 22 (1927); it keeps its coverage near 0 and 1, where the normal
    approximation fails, and is never empty or outside [0, 1].
    """
    if n <= 0:
        return 0.0, 1.0
    if not 0 <= count <= n:
        raise ValueError(f"count {count} is not between 0 and n = {n}")
    p = count / n
    z2 = z * z
    denom = 1.0 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    low, high = max(0.0, centre - half), min(1.0, centre + half)
    # exact at the edges (rounding would otherwise leave 1e-17 outside)
    if count == 0:
        low = 0.0
    if count == n:
        high = 1.0
    return low, high


def newcombe_difference(
    c1: int, n1: int, c2: int, n2: int, z: float = Z95
) -> tuple[float, float, float]:
    """``p1 - p2`` with Newcombe's hybrid score interval (method 10 of R. G. Newcombe,
    "Interval estimation for the difference between independent proportions",
    Statistics in Medicine 17, 1998), built from the two Wilson intervals.

    It assumes independent samples; crises run with the same seed share their random
    numbers, which makes the true interval narrower, so this one is conservative."""
    p1, p2 = c1 / n1, c2 / n2
    l1, u1 = wilson(c1, n1, z)
    l2, u2 = wilson(c2, n2, z)
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return d, max(-1.0, low), min(1.0, high)


def quantile_index(counts: list[int] | tuple[int, ...], q: float) -> int:
    """The index of the ``q`` quantile of a histogram (the first bin whose cumulative
    count reaches ``q`` of the total)."""
    total = sum(counts)
    if total == 0:
        raise ValueError("an empty histogram has no quantiles")
    target = q * total
    running = 0
    for i, c in enumerate(counts):
        running += c
        if running >= target and c:
            return i
    return len(counts) - 1
