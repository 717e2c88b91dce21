"""Benchmark: the wall and CPU time of a whole game's debrief (its decisions' odds) with
the default runs (2,000 simulated crises per estimate).

    python bench/bench_debrief.py                  # both games, every core
    python bench/bench_debrief.py --repeat 3 --game five
    CRISISLAB_DEBRIEF_WORKERS=1 python bench/bench_debrief.py   # one process

It plays the games itself, in-process through the command line's ``play --moves``, into a
temporary database, rebuilds each saved game as ``crisislab debrief`` does, and times
:func:`crisislab.play.debrief.build` alone (loading the scenario and replaying the game
are not counted). CPU time is this process's and its finished worker processes'. It
prints figures only; with ``--json`` it also prints each debrief's odds as one line, to
compare two trees' numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

GAMES = {
    # an air strike on 22 October, the rest followed
    "one": "- follow: 1962-10-21\n- choose: usa_air_strike\n- follow: end\n",
    # five choices, two of them decisions (the others are what following would play)
    "five": (
        "- follow: 1962-10-18\n- choose: usa_raise_readiness\n"
        "- choose: usa_announce_quarantine\n- choose: usa_wait\n- choose: usa_wait\n"
        "- choose: usa_wait\n- follow: end\n"
    ),
}


def cpu() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--game", choices=[*GAMES, "all"], default="all")
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="also print each debrief's odds")
    args = parser.parse_args()

    from typer.testing import CliRunner

    from crisislab.cli import app
    from crisislab.play.debrief import build, to_json
    from crisislab.play.session import GameSetup, Session
    from crisislab.scenario.loader import load_scenario
    from crisislab.store import Store

    names = list(GAMES) if args.game == "all" else [args.game]
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'games.db'}"
        for game_id, name in enumerate(names, start=1):
            moves = Path(tmp) / f"{name}.yaml"
            moves.write_text(GAMES[name], encoding="utf-8")
            r = CliRunner().invoke(
                app,
                ["play", "cuba-1962", "--as", "usa", "--moves", str(moves)]
                + ["--db", url, "--debrief-runs", "0"],
            )
            if r.exit_code != 0:
                sys.exit(f"playing game '{name}' failed:\n{r.output}")
            found = Store(url).checked_game(game_id)
            assert found is not None
            row, record = found
            log = record.log()
            setup = GameSetup.from_json(log[0]["setup"])
            sc = load_scenario(setup.scenario)
            session = Session.rebuild(sc, setup, log[1:])
            for _ in range(args.repeat):
                wall, used = time.perf_counter(), cpu()
                d = build(session, game_id=row.id, runs=args.runs)
                wall, used = time.perf_counter() - wall, cpu() - used
                print(
                    f"{name:>5} ({len(d.decisions)} decisions, {args.runs} runs, workers "
                    f"{os.environ.get('CRISISLAB_DEBRIEF_WORKERS', 'default')}): "
                    f"wall {wall:.2f} s, cpu {used:.2f} s",
                    flush=True,
                )
            if args.json:
                print(json.dumps(to_json(d), sort_keys=True))


if __name__ == "__main__":
    main()
