"""How long `crisislab sources check` takes on the built-in scenario (prints seconds)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from crisislab.scenario.loader import load_scenario
from crisislab.sources import check_sources, iter_citations

SEEDS = Path(
    os.environ.get("CRISISLAB_SEEDS", Path(__file__).resolve().parents[2] / "shared" / "seeds")
)

if __name__ == "__main__":
    scenario = load_scenario("cuba-1962")
    n = sum(1 for _ in iter_citations(scenario.spec))
    started = time.perf_counter()
    report = check_sources(scenario.spec, SEEDS)
    elapsed = time.perf_counter() - started
    print(f"citations: {n}  seed citations: {len(report.seed)}  resolved: {len(report.resolved)}")
    print(f"check time (cold documents): {elapsed:.3f} s")
