"""Timings of the game-theory layer (prints; never run by the tests).

python bench/bench_gt.py              # solvers, checks and the cuba-1962 trees
python bench/bench_gt.py --commands   # only the whole-process commands:
                                      # gt tree cuba-1962 --depth 2..4, gt solve
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from crisislab.gt.flat import to_gambit
from crisislab.gt.gamefile import read_game
from crisislab.gt.solve import solve_game
from crisislab.gt.tree import build_tree
from crisislab.scenario.loader import load_scenario

DATA = Path(__file__).parent.parent / "tests" / "data" / "gt"


def timed(label: str, fn):  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    out = fn()
    print(f"{label:55s} {time.perf_counter() - t0:8.3f} s")
    return out


def checks() -> None:
    """What verifying costs: the exact best-response and subgame checks on their own."""
    from crisislab.gt.flat import from_gambit
    from crisislab.gt.regret import nash_conv, subgame_gains

    for name in ("kuhn_poker.efg", "zagare.efg", "centipede.efg"):
        game = read_game(DATA / name)
        res = solve_game(game, "lcp" if len(game.players) == 2 else "spe")
        tree = from_gambit(game)
        prof = res.profiles[0]
        timed(f"{name}: exact NashConv of one profile", lambda t=tree, q=prof: nash_conv(t, q))
        timed(f"{name}: every subgame checked", lambda t=tree, q=prof: subgame_gains(t, q))


def commands() -> None:
    """Whole-process wall and CPU time of the gt commands a user runs (start-up,
    scenario load, tree, continuation values, solver, output)."""
    src = Path(__file__).resolve().parent.parent / "src"
    env = {**os.environ, "PYTHONPATH": str(src)}
    print(f"load average {os.getloadavg()[0]:.2f}")
    runs = [["gt", "tree", "cuba-1962", "--depth", str(d)] for d in (2, 3, 4)]
    runs.append(["gt", "solve", "cuba-1962"])
    for args in runs:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "crisislab.cli", *args], env=env, capture_output=True, text=True
        )
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        size = next(
            (line.strip() for line in done.stdout.splitlines() if "leaves" in line),
            f"exit {done.returncode}",
        )
        print(f"crisislab {' '.join(args):40s} {wall:7.2f} s wall {cpu:7.2f} s CPU  {size}")


def main() -> None:
    if "--commands" in sys.argv:
        commands()
        return
    checks()
    kuhn = read_game(DATA / "kuhn_poker.efg")
    for method in ("lcp", "lp", "spe", "logit"):
        timed(f"kuhn poker, {method}", lambda m=method: solve_game(kuhn, m))
    for it in (500, 2000, 8000):
        r = timed(
            f"kuhn poker, cfr {it} iterations", lambda i=it: solve_game(kuhn, "cfr", iterations=i)
        )
        print(f"{'':55s} NashConv {r.details['nash_conv']:.2e}")
    sc = load_scenario("cuba-1962")
    start = sc.clock.turn_of(__import__("datetime").date(1962, 10, 16))
    for depth in (2, 3, 4):
        st = timed(
            f"cuba-1962 tree, depth {depth}, 100 samples per cut",
            lambda d=depth: build_tree(sc, start_turn=start, depth=d, samples=100),
        )
        print(f"{'':55s} {st.size}")
        game = to_gambit(st.tree)
        timed(f"cuba-1962 depth {depth}, spe", lambda g=game: solve_game(g, "spe"))
        r = timed(
            f"cuba-1962 depth {depth}, cfr 1000",
            lambda g=game: solve_game(g, "cfr", iterations=1000),
        )
        print(f"{'':55s} NashConv {r.details['nash_conv']:.3g}")


if __name__ == "__main__":
    main()
