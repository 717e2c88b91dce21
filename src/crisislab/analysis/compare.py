"""Several what-ifs or agent line-ups side by side, against a baseline.

Every column runs the same crisis ids with the same seed, so the columns share their
random numbers (common random numbers) and differences are not blurred by independent
noise. The interval of a difference is Newcombe's hybrid score interval, which assumes
independent samples and is therefore conservative here.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from crisislab.analysis.aggregate import Aggregate, summarise
from crisislab.analysis.simulate import (
    AnalysisError,
    Plan,
    Progress,
    Variant,
    auto_chunk,
    build,
    run_plan,
    tracking_of,
)
from crisislab.analysis.stats import newcombe_difference
from crisislab.engine.version import engine_version
from crisislab.scenario.model import Scenario


@dataclass(frozen=True)
class Comparison:
    scenario: str
    version: str
    content_hash: str
    runs: int
    seed: int
    variants: tuple[Variant, ...]
    aggregates: tuple[Aggregate, ...]
    summaries: tuple[dict[str, Any], ...]
    elapsed_s: float

    @property
    def baseline(self) -> Variant:
        return self.variants[0]

    def differences(self) -> dict[str, dict[str, dict[str, float]]]:
        """Per column after the first, per outcome: ``p - p_baseline`` with its 95%
        interval."""
        base = self.summaries[0]["outcomes"]
        out: dict[str, dict[str, dict[str, float]]] = {}
        for variant, summary in zip(self.variants[1:], self.summaries[1:], strict=True):
            diffs: dict[str, dict[str, float]] = {}
            for oid, o in summary["outcomes"].items():
                if oid not in base:
                    continue
                d, low, high = newcombe_difference(
                    o["count"], self.runs, base[oid]["count"], self.runs
                )
                diffs[oid] = {"d": d, "low": low, "high": high}
            out[variant.label] = diffs
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "version": self.version,
            "engine_version": engine_version(),
            "content_hash": self.content_hash,
            "runs": self.runs,
            "seed": self.seed,
            "baseline": self.baseline.label,
            "columns": [
                {
                    "label": v.label,
                    "agents": v.agents(),
                    "what_ifs": list(v.what_ifs),
                    "parameters": dict(v.parameters),
                    **s,
                }
                for v, s in zip(self.variants, self.summaries, strict=True)
            ],
            "differences": self.differences(),
            "elapsed_s": round(self.elapsed_s, 3),
        }


def compare(
    scenario: Scenario,
    variants: Sequence[Variant],
    runs: int,
    seed: int = 0,
    backend: str = "local",
    workers: int | None = None,
    address: str | None = None,
    chunk_size: int | None = None,
    progress: Progress | None = None,
) -> Comparison:
    """Run every variant on the same crisis ids and seed; the first is the baseline."""
    if len(variants) < 2:
        raise AnalysisError(
            "compare needs at least two columns: give --what-if or "
            "--lineup (the baseline is added for you)"
        )
    labels = [v.label for v in variants]
    if len(set(labels)) != len(labels):
        raise AnalysisError(f"two columns have the same label: {', '.join(labels)}")
    started = time.perf_counter()
    chunk_size = chunk_size or auto_chunk(scenario, variants)
    plan = Plan(scenario, tuple(variants), runs, seed, chunk_size, record=True)
    aggregates = run_plan(plan, backend, workers, address, progress)
    summaries = []
    for v, agg in zip(variants, aggregates, strict=True):
        built = build(scenario, v)[0]
        summaries.append(summarise(agg, built, tracking_of(built)))
    return Comparison(
        scenario.id,
        scenario.version,
        scenario.content_hash,
        runs,
        seed,
        tuple(variants),
        tuple(aggregates),
        tuple(summaries),
        time.perf_counter() - started,
    )
