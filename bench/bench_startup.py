"""Start-up of the ``crisislab`` command: whole-process wall and CPU time of a few
commands, and the slowest imports (prints; never run by the tests).

    python bench/bench_startup.py                    # the tree this script is in
    python bench/bench_startup.py --src OTHER/src    # another tree, side by side
    python bench/bench_startup.py --imports          # also the slowest imports of the CLI

Each command runs ``--repeat`` times in a fresh interpreter; the median is printed.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent / "src"

COMMANDS: list[tuple[str, list[str]]] = [
    ("python -c pass (the interpreter alone)", ["-c", "pass"]),
    ("import crisislab.cli", ["-c", "import crisislab.cli"]),
    ("crisislab --help", ["-m", "crisislab.cli", "--help"]),
    ("crisislab version", ["-m", "crisislab.cli", "version"]),
    ("crisislab simulate --help", ["-m", "crisislab.cli", "simulate", "--help"]),
    ("crisislab gt --help", ["-m", "crisislab.cli", "gt", "--help"]),
    ("crisislab validate cuba-1962", ["-m", "crisislab.cli", "validate", "cuba-1962"]),
    (
        "crisislab replay cuba-1962 -f json",
        ["-m", "crisislab.cli", "replay", "cuba-1962", "-f", "json"],
    ),
]


def timed(args: list[str], src: Path) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one run of ``python args``."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, *args],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=tempfile.gettempdir(),
    )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def slowest_imports(src: Path, count: int = 15) -> list[tuple[float, str]]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import crisislab.cli"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    rows = []
    for line in done.stderr.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \| (.*)", line)
        if m:
            rows.append((int(m.group(1)) / 1e6, m.group(2).rstrip()))
    return sorted(rows, reverse=True)[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--src",
        type=Path,
        action="append",
        default=[],
        help="a source tree to time (repeatable; default: this one)",
    )
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--imports", action="store_true", help="list the slowest imports")
    opts = parser.parse_args()
    trees = opts.src or [HERE]
    print(
        f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} "
        f"{os.getloadavg()[2]:.2f}; {opts.repeat} runs each, medians"
    )
    header = "".join(f" | {str(t)[-28:]:>28s}" for t in trees)
    print(f"{'command':40s}{header}")
    for label, args in COMMANDS:
        cells = []
        for tree in trees:
            runs = [timed(args, tree) for _ in range(opts.repeat)]
            wall = statistics.median(r[0] for r in runs)
            cpu = statistics.median(r[1] for r in runs)
            cells.append(f"{wall:6.3f} s wall {cpu:6.3f} s CPU")
        print(f"{label:40s}" + "".join(f" | {c:>28s}" for c in cells))
    if opts.imports:
        for tree in trees:
            print(f"\nslowest imports of crisislab.cli ({tree}), cumulative:")
            for seconds, name in slowest_imports(tree):
                print(f"  {seconds:6.3f} s  {name}")


if __name__ == "__main__":
    main()
