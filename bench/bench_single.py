"""One crisis alone, the PettingZoo environment and one turn of ``crisislab play``
(prints figures; never run by the tests).

    python bench/bench_single.py [--crises 20] [--steps 2000] [--turns 30] [--vector 256]

- **one crisis alone**: ``run_batch`` of a batch of one, crisis after crisis (seeds 1,
  2, ...), with the default line-up (``historical`` in every seat) and a deterministic
  doctrine line-up; milliseconds per crisis and per turn played;
- **PettingZoo**: ``CrisisParallelEnv`` with both players learning, random legal
  actions, episodes one after another, steps per second (with and without the
  briefing in words);
- **the closest peer** (when OpenSpiel is installed: ``pip install -e ".[bench]"``):
  one game of OpenSpiel's iterated prisoner's dilemma, the stochastic repeated game of
  simultaneous moves its Python API ships, played to 101 rounds (as many turns as a
  ``cuba-1962`` crisis along the record) with random legal moves, in milliseconds a game,
  both as written in Python and as its C++ repeated game;
- **vector env** (when ``crisislab.rl`` has it): many crises stepped in one batch,
  crisis steps per second;
- **one turn of play**: a game as the United States against the historical leaders,
  each turn split into the engine's turn (``Session.play_turn``), the briefing and its
  rendering (``brief`` and ``Terminal.render`` to a string), and the save (the game's
  row written to a SQLite file, as ``crisislab play`` does after every turn).

Figures are medians or totals of wall time on this process, after one warm-up run
(and, for the crises and the environment, the process's CPU time, which a busy machine
inflates less); the load average is printed first, since a busy machine is slower.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

LINEUPS = {
    "historical": {},
    "doctrines": {"usa": "organizational", "ussr": "political", "cuba": "hawk"},
}


def one_crisis(crises: int) -> None:
    from crisislab.agents.registry import make_agent
    from crisislab.runner import run_batch
    from crisislab.scenario.loader import load_scenario

    sc = load_scenario("cuba-1962")
    for name, specs in LINEUPS.items():
        agents = {
            a: make_agent(specs.get(a, "historical"), sc, a)
            for a in sc.players
            if sc.role(a) == "player" or a in specs
        }
        run_batch(sc, agents, 1, seed=0)  # warm-up: the record's replay, compiled rules
        times, turns = [], 0
        cpu = time.process_time()
        for seed in range(1, crises + 1):
            t0 = time.perf_counter()
            r = run_batch(sc, agents, 1, seed=seed)
            times.append(time.perf_counter() - t0)
            turns += int(r.end_turn[0]) + 1 - sc.start_turn
        cpu = time.process_time() - cpu
        total = sum(times)
        print(
            f"one crisis alone, {name}: {1000 * total / crises:.1f} ms a crisis "
            f"(median {1000 * statistics.median(times):.1f} ms), "
            f"{1000 * total / turns:.2f} ms a turn, {turns / crises:.0f} turns a crisis, "
            f"{crises} crises; CPU {1000 * cpu / crises:.1f} ms a crisis"
        )


def peer(games: int) -> None:
    """One game of the closest peer, OpenSpiel, played to as many rounds as a crisis."""
    try:
        import open_spiel.python.games  # noqa: F401  (registers the games written in Python)
        import pyspiel
    except ImportError:
        print('closest peer: OpenSpiel is not installed (pip install -e ".[bench]")')
        return
    import random

    def play(game: object, rng: random.Random) -> int:
        state = game.new_initial_state()  # type: ignore[attr-defined]
        players = game.num_players()  # type: ignore[attr-defined]
        rounds = 0
        while not state.is_terminal():
            if state.is_chance_node():
                outcomes, ps = zip(*state.chance_outcomes(), strict=True)
                state.apply_action(rng.choices(outcomes, ps)[0])
            elif state.is_simultaneous_node():
                state.apply_actions([rng.choice(state.legal_actions(p)) for p in range(players)])
                rounds += 1
            else:
                state.apply_action(rng.choice(state.legal_actions()))
                rounds += 1
        return rounds

    for label, name in (
        (
            "iterated prisoner's dilemma in Python",
            "python_iterated_prisoners_dilemma(max_game_length=101,termination_probability=0.0)",
        ),
        (
            "repeated prisoner's dilemma in C++",
            "repeated_game(stage_game=matrix_pd(),num_repetitions=101)",
        ),
    ):
        game = pyspiel.load_game(name)
        rng = random.Random(1)
        play(game, rng)  # warm-up
        t0 = time.perf_counter()
        rounds = sum(play(game, rng) for _ in range(games))
        elapsed = time.perf_counter() - t0
        version = getattr(pyspiel, "__version__", "")
        print(
            f"closest peer, OpenSpiel {version} {label}: "
            f"{1000 * elapsed / games:.2f} ms a game, {rounds / games:.0f} rounds, {games} games"
        )


def pettingzoo(steps: int) -> None:
    from crisislab.rl import CrisisParallelEnv
    from crisislab.scenario.loader import load_scenario

    sc = load_scenario("cuba-1962")
    for briefings in (False, True):
        env = CrisisParallelEnv(sc, briefings=briefings)
        rng = np.random.default_rng(0)
        obs, _ = env.reset(seed=1)
        done_steps, episodes = 0, 0
        t0 = time.perf_counter()
        cpu = time.process_time()
        while done_steps < steps:
            if not env.agents:
                episodes += 1
                obs, _ = env.reset(seed=1 + episodes)
            actions = {}
            for a in env.agents:
                legal = np.flatnonzero(obs[a]["action_mask"])
                actions[a] = int(rng.choice(legal))
            obs, *_ = env.step(actions)
            done_steps += 1
        elapsed = time.perf_counter() - t0
        cpu = time.process_time() - cpu
        print(
            f"PettingZoo env, briefings {'on' if briefings else 'off'}: "
            f"{done_steps / elapsed:,.0f} steps/s ({done_steps} steps, "
            f"{episodes} episodes ended); {done_steps / cpu:,.0f} steps a CPU second"
        )


def vector(n: int, steps: int) -> None:
    import crisislab.rl as rl
    from crisislab.scenario.loader import load_scenario

    if not hasattr(rl, "CrisisVectorEnv"):
        print("vector env: not in this version")
        return
    sc = load_scenario("cuba-1962")
    env = rl.CrisisVectorEnv(sc, n)
    rng = np.random.default_rng(0)
    obs, _ = env.reset(seed=1)
    t0 = time.perf_counter()
    for _ in range(steps):
        actions = {}
        for a in env.possible_agents:
            mask = obs[a]["action_mask"].astype(bool)
            score = rng.random(mask.shape) * mask
            actions[a] = np.argmax(score, axis=1)
        obs, *_ = env.step(actions)
    elapsed = time.perf_counter() - t0
    print(
        f"vector env, {n} crises: {n * steps / elapsed:,.0f} crisis steps/s "
        f"({steps} batch steps in {elapsed:.2f} s)"
    )


def play_turns(turns: int) -> None:
    from rich.console import Console

    from crisislab.cli.play import _new_row, _save
    from crisislab.play.briefing import brief
    from crisislab.play.session import GameSetup, Session
    from crisislab.play.tui import Terminal
    from crisislab.scenario.loader import load_scenario
    from crisislab.store import Store

    sc = load_scenario("cuba-1962")
    seats = {
        a: ("human" if a == "usa" else "historical") for a in sc.players if sc.role(a) == "player"
    }
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'games.db'}", writable=True)
        session = Session.new(sc, GameSetup("cuba-1962", 1, seats))
        row = _new_row(store, session)
        console = Console(file=io.StringIO(), width=160, highlight=False)
        terminal = Terminal(session, console, clear=True)
        parts: dict[str, list[float]] = {"engine": [], "briefing": [], "render": [], "save": []}
        played = 0
        while played < turns + 1 and not session.done:
            t0 = time.perf_counter()
            b = brief(session, "usa")
            t1 = time.perf_counter()
            terminal.render(b)
            t2 = time.perf_counter()
            session.play_turn({"usa": sc.default_action("usa").id}, [])
            t3 = time.perf_counter()
            _save(store, row, session)
            t4 = time.perf_counter()
            console.file = io.StringIO()
            if played:  # the first turn warms up
                for key, dt in zip(parts, (t3 - t2, t1 - t0, t2 - t1, t4 - t3), strict=True):
                    parts[key].append(dt)
            played += 1
    med = {k: 1000 * statistics.median(v) for k, v in parts.items()}
    print(
        f"one turn of play (median of {len(parts['engine'])} turns): "
        f"{sum(med.values()):.1f} ms = engine {med['engine']:.1f} + briefing "
        f"{med['briefing']:.1f} + render {med['render']:.1f} + save {med['save']:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crises", type=int, default=20)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--turns", type=int, default=30)
    parser.add_argument("--vector", type=int, default=256)
    parser.add_argument("--only", choices=("crisis", "peer", "env", "vector", "play"))
    opts = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f}")
    if opts.only in (None, "crisis"):
        one_crisis(opts.crises)
    if opts.only in (None, "crisis", "peer"):
        peer(max(opts.crises, 100))
    if opts.only in (None, "env"):
        pettingzoo(opts.steps)
    if opts.only in (None, "vector"):
        vector(opts.vector, 100)
    if opts.only in (None, "play"):
        play_turns(opts.turns)


if __name__ == "__main__":
    main()
