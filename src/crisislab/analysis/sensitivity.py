"""Which assumptions drive the odds of nuclear war: parameter sweeps.

*One at a time*: each parameter with a range is set to the low and then the high end of
its range, the others kept at their values; parameters are ranked by the swing in the
target probability (a tornado chart). *Sobol*: every ranged parameter varies at once over
its range, sampled with Saltelli's scheme through SALib (``N * (D + 2)`` points for ``D``
parameters and ``N`` base samples, second-order indices off); first-order (S1) and total
(ST) indices with bootstrap intervals say how much of the variance in the target
probability each parameter explains alone and with its interactions.

Every point runs the same crisis ids with the same seed (common random numbers), so the
differences between points come from the parameters, not from independent noise.

The defaults are sized to rank the parameters (see docs/simulate.md): 16,384 crises a
point, because the outcomes studied are rare (a probability near 1% moves by a handful
of crises in 1,024); and, for Sobol, 64 base samples, because with 16 the bootstrap
intervals are wider than the indices. Sobol indices lie in [0, 1] by definition; their
intervals are clipped to it, and an index whose interval is at least as wide as the
index itself is flagged as not resolved rather than ranked as if it were known.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from crisislab.analysis.aggregate import Aggregate
from crisislab.analysis.simulate import (
    AnalysisError,
    Plan,
    Progress,
    Variant,
    auto_chunk,
    parameter_ranges,
    run_plan,
)
from crisislab.analysis.stats import newcombe_difference, wilson
from crisislab.engine.version import engine_version
from crisislab.scenario.model import Scenario

Method = Literal["oat", "sobol", "both"]
RUNS_PER_POINT = 16_384
SAMPLES = 64
NUCLEAR_TAG = "nuclear"


def target_outcomes(scenario: Scenario, ids: Sequence[str] = ()) -> tuple[str, ...]:
    """The outcomes whose probability is studied: ``ids`` if given, else those the
    scenario tags ``nuclear`` (nuclear use), else the most escalated."""
    known = [o.id for o in scenario.outcomes]
    for oid in ids:
        if oid not in known:
            raise AnalysisError(
                f"'{oid}' is not an outcome of {scenario.id}; use one of: {', '.join(known)}"
            )
    if ids:
        return tuple(dict.fromkeys(ids))
    nuclear = scenario.outcomes_tagged(NUCLEAR_TAG)
    if nuclear:
        return nuclear
    top = max(o.escalation for o in scenario.outcomes)
    return tuple(o.id for o in scenario.outcomes if o.escalation == top)


@dataclass(frozen=True)
class OatRow:
    parameter: str
    value: float
    low: float
    high: float
    p_low: float
    p_high: float
    interval_low: tuple[float, float]
    interval_high: tuple[float, float]

    @property
    def swing(self) -> float:
        return abs(self.p_high - self.p_low)

    def difference(self, n: int) -> tuple[float, float, float]:
        """``p_high - p_low`` with Newcombe's interval (conservative: the two ends share
        their random numbers)."""
        return newcombe_difference(round(self.p_high * n), n, round(self.p_low * n), n)


@dataclass(frozen=True)
class SobolRow:
    parameter: str
    s1: float
    s1_conf: float
    st: float
    st_conf: float

    @staticmethod
    def _clip(x: float) -> float:
        return min(1.0, max(0.0, x))

    @property
    def s1_interval(self) -> tuple[float, float]:
        return self._clip(self.s1 - self.s1_conf), self._clip(self.s1 + self.s1_conf)

    @property
    def st_interval(self) -> tuple[float, float]:
        return self._clip(self.st - self.st_conf), self._clip(self.st + self.st_conf)

    @property
    def resolved(self) -> bool:
        """The total index lies in (0, 1] and is known better than its own size (an
        estimate above 1 is noise: a share of variance cannot exceed the whole)."""
        return 0 < self.st <= 1 and self.st_conf < self.st


@dataclass(frozen=True)
class Sensitivity:
    scenario: str
    version: str
    content_hash: str
    targets: tuple[str, ...]
    seed: int
    runs_per_point: int
    samples: int
    baseline: dict[str, float]
    oat: tuple[OatRow, ...]  # ranked, largest swing first
    sobol: tuple[SobolRow, ...]  # ranked, largest total index first
    points: int
    elapsed_s: float

    @property
    def total_runs(self) -> int:
        return self.points * self.runs_per_point

    @staticmethod
    def _clip(x: float) -> float:
        return min(1.0, max(0.0, x))

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "version": self.version,
            "engine_version": engine_version(),
            "content_hash": self.content_hash,
            "target": list(self.targets),
            "seed": self.seed,
            "runs_per_point": self.runs_per_point,
            "samples": self.samples,
            "points": self.points,
            "runs": self.total_runs,
            "baseline": self.baseline,
            "one_at_a_time": [
                {
                    "parameter": r.parameter,
                    "value": r.value,
                    "low": r.low,
                    "high": r.high,
                    "p_low": r.p_low,
                    "p_high": r.p_high,
                    "swing": r.swing,
                    "interval_low": list(r.interval_low),
                    "interval_high": list(r.interval_high),
                    "difference": dict(
                        zip(("d", "low", "high"), r.difference(self.runs_per_point), strict=True)
                    ),
                    "significant": _excludes_zero(r.difference(self.runs_per_point)),
                }
                for r in self.oat
            ],
            "sobol": [
                {
                    "parameter": r.parameter,
                    "S1": self._clip(r.s1),
                    "S1_conf": r.s1_conf,
                    "S1_interval": list(r.s1_interval),
                    "ST": self._clip(r.st),
                    "ST_conf": r.st_conf,
                    "ST_interval": list(r.st_interval),
                    "resolved": r.resolved,
                }
                for r in self.sobol
            ],
            "elapsed_s": round(self.elapsed_s, 3),
        }


def planned_points(n_parameters: int, samples: int, method: Method) -> int:
    """How many parameter points a sweep runs (each with ``runs_per_point`` crises)."""
    points = 1
    if method in ("oat", "both"):
        points += 2 * n_parameters
    if method in ("sobol", "both"):
        points += samples * (n_parameters + 2)
    return points


def _excludes_zero(d: tuple[float, float, float]) -> bool:
    return d[1] > 0 or d[2] < 0


def sensitivity(
    scenario: Scenario,
    base: Variant,
    runs_per_point: int = RUNS_PER_POINT,
    samples: int = SAMPLES,
    method: Method = "both",
    targets: Sequence[str] = (),
    seed: int = 0,
    backend: str = "local",
    workers: int | None = None,
    address: str | None = None,
    progress: Progress | None = None,
    parameters: Sequence[str] | None = None,
) -> Sensitivity:
    """Sweep the ranged parameters (all, or ``parameters``) of ``scenario`` played by
    ``base`` (agents, what-ifs; parameters it fixes are not swept)."""
    if method not in ("oat", "sobol", "both"):
        raise AnalysisError(f"unknown method '{method}'; use oat, sobol or both")
    if method != "oat" and (samples < 2 or samples & (samples - 1)):
        raise AnalysisError(
            f"--samples must be a power of two (Sobol sequences need it), "
            f"not {samples}; try 32 or 64"
        )
    started = time.perf_counter()
    target = target_outcomes(scenario, targets)
    fixed = dict(base.parameters)
    ranges = {
        k: r
        for k, r in parameter_ranges(scenario).items()
        if r[0] < r[1] and k not in fixed and (parameters is None or k in parameters)
    }
    if parameters is not None:
        missing = set(parameters) - set(parameter_ranges(scenario))
        if missing:
            raise AnalysisError(f"not parameters of {scenario.id}: {', '.join(sorted(missing))}")
    names = sorted(ranges)
    if not names:
        raise AnalysisError("no parameter with a range to sweep")
    values = {**scenario.parameters, **fixed}

    def variant(label: str, extra: dict[str, float]) -> Variant:
        return Variant(label, base.seats, base.what_ifs, tuple(sorted({**fixed, **extra}.items())))

    variants = [variant("baseline", {})]
    if method in ("oat", "both"):
        for name in names:
            low, high = ranges[name]
            variants += [variant(f"{name}=low", {name: low}), variant(f"{name}=high", {name: high})]
    sobol_x: np.ndarray | None = None
    problem = {"num_vars": len(names), "names": names, "bounds": [list(ranges[n]) for n in names]}
    if method in ("sobol", "both"):
        from crisislab.extras import require

        sobol_sample = require("SALib.sample.sobol", "sensitivity")

        sobol_x = sobol_sample.sample(problem, samples, calc_second_order=False, seed=seed)
        for i, row in enumerate(sobol_x):
            variants.append(
                variant(f"sobol-{i}", {n: float(x) for n, x in zip(names, row, strict=True)})
            )
    chunk = min(auto_chunk(scenario, [base]), runs_per_point)
    plan = Plan(scenario, tuple(variants), runs_per_point, seed, chunk)
    aggs = run_plan(plan, backend, workers, address, progress)
    index = [scenario.outcome(t).index for t in target]

    def hits(agg: Aggregate) -> int:
        return int(agg.outcome_counts[index].sum())

    counts = [hits(a) for a in aggs]
    n = runs_per_point
    b_low, b_high = wilson(counts[0], n)
    baseline = {"p": counts[0] / n, "low": b_low, "high": b_high}
    oat: list[OatRow] = []
    if method in ("oat", "both"):
        for j, name in enumerate(names):
            c_low, c_high = counts[1 + 2 * j], counts[2 + 2 * j]
            oat.append(
                OatRow(
                    name,
                    float(values[name]),
                    *ranges[name],
                    c_low / n,
                    c_high / n,
                    wilson(c_low, n),
                    wilson(c_high, n),
                )
            )
        oat.sort(key=lambda r: (-r.swing, r.parameter))
    sobol: list[SobolRow] = []
    if sobol_x is not None:
        sobol_analyze = require("SALib.analyze.sobol", "sensitivity")

        start = len(variants) - len(sobol_x)
        y = np.array(counts[start:], dtype=np.float64) / n
        if np.ptp(y) == 0:  # no variation at all: every index is zero
            sobol = [SobolRow(name, 0.0, 0.0, 0.0, 0.0) for name in names]
        else:
            si = sobol_analyze.analyze(
                problem, y, calc_second_order=False, seed=seed, print_to_console=False
            )
            sobol = [
                SobolRow(
                    name,
                    *(float(np.nan_to_num(si[k][j])) for k in ("S1", "S1_conf", "ST", "ST_conf")),
                )
                for j, name in enumerate(names)
            ]
        # resolved indices first, each group by its total index
        sobol.sort(key=lambda r: (not r.resolved, -r.st, r.parameter))
    return Sensitivity(
        scenario.id,
        scenario.version,
        scenario.content_hash,
        target,
        seed,
        runs_per_point,
        samples if sobol_x is not None else 0,
        baseline,
        tuple(oat),
        tuple(sobol),
        len(variants),
        time.perf_counter() - started,
    )
