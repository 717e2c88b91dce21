"""Benchmark: complete ``cuba-1962`` crises per second, peak memory, and the batched
engine against a plain one-crisis-at-a-time loop over the same engine.

    python bench/bench_simulate.py                      # 1,000,000 runs, every core
    python bench/bench_simulate.py --runs 200000 --plain 10
    python bench/bench_simulate.py --runs 200000 --plain 5 --lineups random,track
    python bench/bench_simulate.py --runs 200 --plain 2 --lineups expected-utility

Line-ups: historical (the default: the record, and off it the fitted leaders),
doctrines, hawk-dove, random, track (the record, and off it a doctrine per seat) and
expected-utility (the look-ahead planner in Washington's seat; slow: give few runs).

It prints figures only (docs/performance.md records them). Peak memory is the largest
resident set of this process and of any worker process (``resource.getrusage``), and
their sum as an upper bound of the whole run's. Each measurement runs in a fresh
process, so one does not inherit another's peak.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

LINEUPS = {
    "historical": [],
    "doctrines": ["usa=organizational", "ussr=political", "cuba=hawk"],
    "hawk-dove": ["usa=hawk", "ussr=dove", "cuba=hawk"],
    "random": ["usa=random", "ussr=random", "cuba=random"],
    # the record, and off it a doctrine (deterministic, so crises stay lumped)
    "track": [
        "usa=historical:fallback=organizational",
        "ussr=historical:fallback=political",
        "cuba=historical:fallback=hawk",
    ],
    "expected-utility": ["usa=expected_utility"],
}


def measure_batched(lineup: str, runs: int, seed: int, workers: int | None) -> dict:
    from crisislab.analysis.simulate import Variant, seat_specs, simulate
    from crisislab.scenario.loader import load_scenario

    sc = load_scenario("cuba-1962")
    variant = Variant(seats=seat_specs(sc, LINEUPS[lineup]))
    started = time.perf_counter()
    sim = simulate(sc, runs, seed, variant, workers=workers)
    elapsed = time.perf_counter() - started
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    # the parent runs chunks too, beside workers - 1 spawned processes
    n_workers = sim.workers - 1 if sim.workers > 1 and runs > sim.chunk_size else 0
    return {
        "lineup": lineup,
        "runs": runs,
        "elapsed_s": elapsed,
        "per_s": runs / elapsed,
        "workers": sim.workers,
        "chunk_size": sim.chunk_size,
        "peak_parent_mib": me,
        "peak_worker_mib": kids,
        "peak_total_bound_mib": me + n_workers * kids,
        "p_settlement": sim.summary["outcomes"].get("settlement", {}).get("p"),
    }


def measure_plain(lineup: str, crises: int, seed: int) -> dict:
    """One crisis at a time: reset a batch of one, step it to its end, next crisis."""
    import numpy as np

    from crisislab.analysis.simulate import Variant, build, seat_specs
    from crisislab.engine.engine import Engine
    from crisislab.runner import start_batch
    from crisislab.scenario.loader import load_scenario

    sc = load_scenario("cuba-1962")
    scenario, agents = build(sc, Variant(seats=seat_specs(sc, LINEUPS[lineup])))
    engine = Engine(scenario)
    started = time.perf_counter()
    for i in range(crises):
        state = start_batch(engine, 1, seed, crisis_ids=np.array([i]))
        while not state.done.all():
            engine.step(state, {a: agents[a].act(engine.observe(state, a)) for a in engine.players})
    elapsed = time.perf_counter() - started
    return {"lineup": lineup, "crises": crises, "elapsed_s": elapsed, "per_s": crises / elapsed}


def _child(kind: str, args: list[str]) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--plain", type=int, default=20, help="crises for the plain loop")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--lineups", default="historical,doctrines")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--lineup", default="historical", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child == "batched":
        print(json.dumps(measure_batched(a.lineup, a.runs, a.seed, a.workers)))
        return
    if a.child == "plain":
        print(json.dumps(measure_plain(a.lineup, a.plain, a.seed)))
        return
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}")
    print(
        f"command: python bench/bench_simulate.py --runs {a.runs} --seed {a.seed} "
        f"--plain {a.plain}" + (f" --workers {a.workers}" if a.workers else "")
    )
    common = ["--runs", str(a.runs), "--seed", str(a.seed), "--plain", str(a.plain)]
    if a.workers:
        common += ["--workers", str(a.workers)]
    for lineup in a.lineups.split(","):
        b = _child("batched", [*common, "--lineup", lineup])
        p = _child("plain", [*common, "--lineup", lineup])
        print(f"\n[{lineup}] {', '.join(LINEUPS[lineup]) or 'every player historical'}")
        print(
            f"  batched: {b['runs']:,} crises in {b['elapsed_s']:.2f} s = "
            f"{b['per_s']:,.0f} crises/s ({b['workers']} workers, chunks of "
            f"{b['chunk_size']:,})"
        )
        print(
            f"  peak memory: parent {b['peak_parent_mib']:.0f} MiB, largest worker "
            f"{b['peak_worker_mib']:.0f} MiB, whole run at most "
            f"{b['peak_total_bound_mib']:.0f} MiB"
        )
        print(
            f"  plain loop: {p['crises']} crises one at a time in {p['elapsed_s']:.2f} s = "
            f"{p['per_s']:,.2f} crises/s (one core)"
        )
        print(
            f"  ratio batched / plain: {b['per_s'] / p['per_s']:,.0f}x "
            f"({b['per_s'] / p['per_s'] / max(b['workers'], 1):,.0f}x per core)"
        )


if __name__ == "__main__":
    main()
