"""Calibration: the model's values beside the targets a scenario declares, and a search
of the assumptions that brings them closer.

A target (see ``CalibrationTarget`` in the scenario format) compares one statistic of
many simulated crises with a range from the record or the literature:

- ``first_date``: the median date a condition first holds (e.g. the discovery);
- ``end_date``: the median date the crisis ends;
- ``lowest`` / ``highest``: the median over crises of a variable's lowest or highest
  value (e.g. the highest US readiness, which is the lowest DEFCON number);
- ``probability``: the share of crises ending in some outcomes, with Wilson's interval.

A median's 95% interval is the distribution-free one from the order statistics (ranks
``n/2 ± 1.96 sqrt(n)/2``). A target holds when the model's value lies in its range.

``fit`` is a coordinate search over the parameters the scenario labels assumptions,
each within its declared range: one parameter at a time is tried at five points of its
range, every point with the same seed and crisis ids (common random numbers), and the
value with the lowest loss is kept; passes repeat until none improves. The loss adds,
per target, the squared distance of the model's value from the target range, in units of
a week for dates, of the range's width (at least one) for values, and of five points for
probabilities.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from crisislab.analysis.aggregate import Aggregate
from crisislab.analysis.simulate import (
    AnalysisError,
    Plan,
    Progress,
    Variant,
    auto_chunk,
    build,
    run_plan,
)
from crisislab.analysis.stats import Z95, quantile_index, wilson
from crisislab.engine.version import engine_version
from crisislab.scenario.model import Scenario
from crisislab.scenario.schema import DATE_MEASURES, CalibrationTarget

GRID = (0.0, 0.25, 0.5, 0.75, 1.0)  # points of a parameter's range tried by the search


@dataclass(frozen=True)
class TargetResult:
    target: CalibrationTarget
    value: float  # a turn index for date measures; a number otherwise (inf: never)
    low: float
    high: float
    label: str  # the value in words: a date, a level, a percentage
    interval: str
    holds: bool
    share_in_range: float  # crises whose own value falls in the range (not for p)
    loss: float

    def to_json(self) -> dict[str, Any]:
        t = self.target
        return {
            "id": t.id,
            "label": t.label,
            "measure": t.measure,
            "when": t.when,
            "variable": t.variable,
            "outcomes": t.outcomes,
            "target": [str(x) if isinstance(x, dt.date) else x for x in t.range],
            "model": self.label,
            "interval": self.interval,
            "value": None if math.isinf(self.value) else self.value,
            "low": None if math.isinf(self.low) else self.low,
            "high": None if math.isinf(self.high) else self.high,
            "holds": self.holds,
            "share_in_range": self.share_in_range,
            "sources": [c.model_dump() for c in t.cite]
            + [r.model_dump(exclude_none=True) for r in t.references],
        }


@dataclass(frozen=True)
class Calibration:
    scenario: str
    version: str
    content_hash: str
    runs: int
    seed: int
    variant: Variant
    results: tuple[TargetResult, ...]
    fitted: dict[str, tuple[float, float]] = field(default_factory=dict)  # name: (was, now)
    loss_before: float | None = None
    evaluations: int = 0
    elapsed_s: float = 0.0

    @property
    def loss(self) -> float:
        return sum(r.loss for r in self.results)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "scenario": self.scenario,
            "version": self.version,
            "engine_version": engine_version(),
            "content_hash": self.content_hash,
            "runs": self.runs,
            "seed": self.seed,
            "agents": self.variant.agents(),
            "what_ifs": list(self.variant.what_ifs),
            "parameters": dict(self.variant.parameters),
            "targets": [r.to_json() for r in self.results],
            "holding": sum(r.holds for r in self.results),
            "loss": self.loss,
        }
        if self.loss_before is not None:
            out["fit"] = {
                "method": "coordinate search, common random numbers",
                "loss_before": self.loss_before,
                "loss_after": self.loss,
                "evaluations": self.evaluations,
                "changed": {k: {"was": a, "now": b} for k, (a, b) in self.fitted.items()},
            }
        out["elapsed_s"] = round(self.elapsed_s, 3)
        return out


def targets_of(scenario: Scenario) -> tuple[CalibrationTarget, ...]:
    targets = tuple(scenario.spec.calibration)
    if not targets:
        raise AnalysisError(
            f"{scenario.id} declares no calibration targets; add a "
            "`calibration:` list (see docs/scenario-format.md)"
        )
    return targets


def reports_for(targets: Sequence[CalibrationTarget]) -> tuple[str, ...]:
    """The reports a run must keep to measure ``targets``."""
    out: list[str] = []
    for t in targets:
        if t.measure == "first_date":
            out.append(f"when {t.when}")
        elif t.measure in ("lowest", "highest"):
            assert t.variable is not None
            out.append(t.variable)
    return tuple(dict.fromkeys(out))


def _median(hist: list[int], n: int) -> tuple[int, int, int]:
    """The median bin of a histogram and its distribution-free 95% interval."""
    half = Z95 * math.sqrt(n) / 2 / n if n else 0.5
    return (
        quantile_index(hist, 0.5),
        quantile_index(hist, max(0.5 - half, 1e-12)),
        quantile_index(hist, min(0.5 + half, 1.0)),
    )


def measure(target: CalibrationTarget, agg: Aggregate, scenario: Scenario) -> TargetResult:
    """The model's value of one target, from a run's aggregate."""
    n = agg.n
    turns = scenario.clock.turns
    if target.measure == "probability":
        idx = [scenario.outcome(o).index for o in target.outcomes or []]
        count = int(agg.outcome_counts[idx].sum())
        p = count / n
        low, high = wilson(count, n)
        a, b = (float(x) for x in target.range)  # type: ignore[arg-type]
        dist = max(a - p, p - b, 0.0) / 0.05
        return TargetResult(
            target,
            p,
            low,
            high,
            f"{100 * p:.3g}%",
            f"[{100 * low:.3g}%, {100 * high:.3g}%]",
            a <= p <= b,
            float("nan"),
            dist * dist,
        )
    if target.measure in DATE_MEASURES:
        if target.measure == "end_date":
            hist = [int(x) for x in agg.end_counts] + [0]
        else:
            hist = [int(x) for x in agg.reports[f"when {target.when}"]["first"]]
        mid, lo, hi = _median(hist, n)
        start, stop = target.range
        assert isinstance(start, dt.date) and isinstance(stop, dt.date)

        def date(i: int) -> dt.date | None:
            return turns[i].date if i < len(turns) else None

        def words(i: int) -> str:
            return turns[i].label if i < len(turns) else "never"

        inside = [i for i, t in enumerate(turns) if start <= t.date <= stop]  # turns begun
        share = sum(hist[i] for i in inside) / n if n else 0.0
        d = date(mid)
        if d is None:
            dist, holds = 52.0, False  # never: a year away, in weeks
        else:
            # a turn spans its days (a week in a weekly phase): it meets the range if
            # any of its days falls within it
            last = d + dt.timedelta(days=max(math.ceil(turns[mid].step_days) - 1, 0))
            dist = max((start - last).days, (d - stop).days, 0) / 7
            holds = dist == 0
        return TargetResult(
            target,
            float(mid) if d else math.inf,
            float(lo),
            float(hi) if hi < len(turns) else math.inf,
            words(mid),
            f"[{words(lo)}, {words(hi)}]",
            holds,
            share,
            dist * dist,
        )
    assert target.variable is not None
    var = scenario.variable(target.variable)
    counts = agg.reports[target.variable]["min" if target.measure == "lowest" else "max"]
    values = sorted(counts)
    hist = [counts[v] for v in values]
    mid, lo, hi = _median(hist, n)
    a, b = (float(x) for x in target.range)  # type: ignore[arg-type]
    value = values[mid]
    share = sum(c for v, c in counts.items() if a <= v <= b) / n if n else 0.0
    dist = max(a - value, value - b, 0.0) / max(b - a, 1.0)
    return TargetResult(
        target,
        value,
        values[lo],
        values[hi],
        var.format(value),
        f"[{var.format(values[lo])}, {var.format(values[hi])}]",
        a <= value <= b,
        share,
        dist * dist,
    )


def _evaluate(
    scenario: Scenario,
    variants: Sequence[Variant],
    targets: Sequence[CalibrationTarget],
    runs: int,
    seed: int,
    backend: str,
    workers: int | None,
    address: str | None,
    progress: Progress | None = None,
) -> list[tuple[TargetResult, ...]]:
    chunk = auto_chunk(scenario, variants)
    plan = Plan(scenario, tuple(variants), runs, seed, chunk, reports_for(targets), False)
    aggs = run_plan(plan, backend, workers, address, progress)
    out = []
    for v, agg in zip(variants, aggs, strict=True):
        built = build(scenario, v)[0]
        out.append(tuple(measure(t, agg, built) for t in targets))
    return out


def assumptions(
    scenario: Scenario, only: Sequence[str] | None = None
) -> dict[str, tuple[float, float]]:
    """The parameters labelled assumptions that have a range to search."""
    ranged = {
        p.id: (float(p.range[0]), float(p.range[1]))
        for p in scenario.spec.parameters
        if p.assumption and p.range[0] < p.range[1]
    }
    if only:
        unknown = [k for k in only if k not in ranged]
        if unknown:
            raise AnalysisError(
                f"not assumptions with a range in {scenario.id}: "
                f"{', '.join(unknown)}; --only takes parameters labelled "
                "assumptions"
            )
        ranged = {k: v for k, v in ranged.items() if k in only}
    return ranged


def calibrate(
    scenario: Scenario,
    variant: Variant,
    runs: int,
    seed: int = 0,
    backend: str = "local",
    workers: int | None = None,
    address: str | None = None,
    fit: bool = False,
    fit_runs: int = 20_000,
    passes: int = 2,
    only: Sequence[str] | None = None,
    progress: Progress | None = None,
) -> Calibration:
    """Measure every target; with ``fit``, search the assumptions first (with
    ``fit_runs`` crises per point) and measure the result with ``runs``."""
    started = time.perf_counter()
    targets = targets_of(scenario)
    fitted: dict[str, tuple[float, float]] = {}
    loss_before = None
    evaluations = 0
    if fit:
        if fit_runs < 1 or passes < 1:
            raise AnalysisError("--fit-runs and --passes must be at least 1")
        ranges = assumptions(scenario, only)
        current = {**scenario.parameters, **dict(variant.parameters)}
        fixed = dict(variant.parameters)
        free = [k for k in sorted(ranges) if k not in fixed]

        def with_values(values: dict[str, float]) -> Variant:
            return Variant(
                variant.label,
                variant.seats,
                variant.what_ifs,
                tuple(sorted({**fixed, **values}.items())),
            )

        chosen: dict[str, float] = {}
        (base,) = _evaluate(
            scenario, [with_values(chosen)], targets, fit_runs, seed, backend, workers, address
        )
        best = sum(r.loss for r in base)
        loss_before = best
        evaluations += 1
        for _ in range(passes):
            improved = False
            for name in free:
                low, high = ranges[name]
                points = [low + g * (high - low) for g in GRID]
                points = [x for x in points if not math.isclose(x, chosen.get(name, current[name]))]
                trials = [with_values({**chosen, name: x}) for x in points]
                results = _evaluate(
                    scenario, trials, targets, fit_runs, seed, backend, workers, address
                )
                evaluations += len(trials)
                losses = [sum(r.loss for r in res) for res in results]
                i = int(np.argmin(losses))
                if losses[i] < best - 1e-12:
                    best = losses[i]
                    chosen[name] = points[i]
                    improved = True
            if not improved:
                break
        fitted = {k: (float(current[k]), float(v)) for k, v in sorted(chosen.items())}
        variant = with_values(chosen)
    (measured,) = _evaluate(
        scenario, [variant], targets, runs, seed, backend, workers, address, progress
    )
    built = build(scenario, variant)[0]
    return Calibration(
        built.id,
        built.version,
        built.content_hash,
        runs,
        seed,
        variant,
        measured,
        fitted,
        loss_before,
        evaluations,
        time.perf_counter() - started,
    )


# ---- parameter files ---------------------------------------------------------------------


def write_parameter_file(path: Path, cal: Calibration) -> None:
    """The variant's parameters as YAML, with where they came from in comments."""
    import yaml

    lines = [
        f"# parameters for {cal.scenario} {cal.version} (content {cal.content_hash})",
        f"# from `crisislab calibrate --fit`, {cal.runs:,} crises, seed {cal.seed}",
        "# read with `crisislab simulate SCENARIO --params FILE`",
    ]
    body = yaml.safe_dump({k: float(v) for k, v in cal.variant.parameters}, sort_keys=True)
    try:
        path.write_text(
            "\n".join(lines) + "\n" + (body if cal.variant.parameters else "{}\n"), encoding="utf-8"
        )
    except OSError as e:
        raise AnalysisError(f"cannot write {path}: {e.strerror}; choose a writable path") from None


def read_parameter_file(path: Path) -> dict[str, float]:
    """``NAME: VALUE`` pairs from a YAML file (or under a ``parameters:`` key)."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise AnalysisError(f"cannot read {path}: {e.strerror}") from None
    except yaml.YAMLError as e:
        raise AnalysisError(f"{path} is not valid YAML: {str(e).splitlines()[0]}") from None
    if isinstance(data, dict) and isinstance(data.get("parameters"), dict):
        data = data["parameters"]
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise AnalysisError(f"{path} should hold NAME: VALUE lines, e.g. `p_detect: 0.3`")
    out: dict[str, float] = {}
    for k, v in data.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise AnalysisError(f"{path}: parameter '{k}' should be a number, not {v!r}")
        out[str(k)] = float(v)
    return out
