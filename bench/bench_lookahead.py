"""One turn's choice of the expected-utility agent (prints; never run by the tests).

    python bench/bench_lookahead.py [--crises 4] [--spec expected_utility]

A batch of crises is reset to 23 October 1962, played one turn by ``random`` agents so
that their positions differ, then the agent chooses for the United States once; the
CPU time of that one ``act`` is printed with the number of options it weighed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time

from crisislab.agents.registry import make_agent
from crisislab.engine.engine import Engine
from crisislab.engine.loop import decide
from crisislab.runner import start_batch
from crisislab.scenario.loader import load_scenario


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crises", type=int, default=4)
    parser.add_argument("--spec", default="expected_utility")
    opts = parser.parse_args()
    sc = load_scenario("cuba-1962")
    engine = Engine(sc, chance="free")
    state = start_batch(
        engine, opts.crises, seed=2, start_turn=sc.clock.turn_of(dt.date(1962, 10, 23))
    )
    agents = {
        a: make_agent("random", sc, a) if sc.role(a) == "player" else make_agent("scripted", sc, a)
        for a in sc.players
    }
    engine.step(state, decide(engine, state, agents))
    agent = make_agent(opts.spec, sc, "usa")
    obs = engine.observe(state, "usa")
    t0 = time.process_time()
    picks = agent.act(obs)
    cpu = time.process_time() - t0
    print(
        f"load {os.getloadavg()[0]:.2f}: {opts.spec} for usa, {state.n} crises, "
        f"{int(obs.legal[~state.done].sum())} options in all: {cpu:.2f} s CPU; "
        f"choices {picks.tolist()}"
    )


if __name__ == "__main__":
    main()
