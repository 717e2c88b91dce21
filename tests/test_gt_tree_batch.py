"""The scenario tree's cuts: depth counted in decisions, and every cut's continuation
value from one batched run that gives, crisis by crisis, what running each cut alone
gives."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from crisislab.agents.historical import HistoricalAgent
from crisislab.engine.engine import Engine
from crisislab.engine.loop import decide, lumpable
from crisislab.engine.state import BatchState
from crisislab.gt.flat import FlatTree
from crisislab.gt.tree import build_tree
from crisislab.runner import complete_agents, run_onward, run_onward_many, start_batch
from crisislab.scenario.loader import load_scenario
from crisislab.scenario.model import Scenario

MINI = Path(__file__).parent / "data" / "mini.yaml"


class Unlumped:
    """A deterministic agent declared stochastic, so that batches are not lumped."""

    stochastic = True
    needs_model_server = False

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = "unlumped"

    def act(self, observation: Any) -> np.ndarray:
        return np.asarray(self.inner.act(observation))


def doctrine(sc: Scenario) -> dict[str, Any]:
    return complete_agents(
        sc, {a: HistoricalAgent(sc, a) for a in sc.players if sc.role(a) == "player"}
    )


def positions(sc: Scenario, start: int, turns: int, seed: int) -> list[BatchState]:
    """One-crisis states at several turns: the doctrine's path and, each turn, a legal
    deviation of one player from it (so states differ and sit at different turns)."""
    engine = Engine(sc, chance="free")
    agents = doctrine(sc)
    state = start_batch(engine, 1, seed=seed, start_turn=start)
    rng = np.random.default_rng(seed)
    out = []
    for t in range(turns):
        if state.done[0]:
            break
        out.append(state.select(np.array([0])))
        choice = decide(engine, state, agents)
        actor = sc.players[t % len(sc.players)]
        other = {k: v.copy() for k, v in choice.items()}
        other[actor] = np.array([int(rng.choice(np.flatnonzero(engine.legal(state, actor)[0])))])
        apart = state.select(np.array([0]))
        engine.step(apart, other)
        if not apart.done[0]:
            out.append(apart)
        engine.step(state, choice)
    return out


@pytest.mark.parametrize("seed", [1, 7])
def test_batched_continuations_equal_one_run_per_state(seed: int) -> None:
    sc = load_scenario(MINI)
    states = positions(sc, sc.start_turn, 6, seed)
    assert len({s.turn for s in states}) > 2  # copies join the batch at several turns
    agents = doctrine(sc)
    many = run_onward_many(sc, states, agents, 48, seed=seed + 1)
    for state, payoffs in zip(states, many, strict=True):
        alone = run_onward(sc, state, agents, 48, seed=seed + 1).payoffs
        assert np.array_equal(payoffs, alone)


def test_batched_continuations_unlumped_and_on_cuba() -> None:
    sc = load_scenario("cuba-1962")
    start = sc.clock.turn_of(dt.date(1962, 10, 22))
    assert start is not None
    states = positions(sc, start, 3, 3)
    for agents in (doctrine(sc), {a: Unlumped(x) for a, x in doctrine(sc).items()}):
        many = run_onward_many(sc, states, agents, 12, seed=2)
        for state, payoffs in zip(states, many, strict=True):
            assert np.array_equal(payoffs, run_onward(sc, state, agents, 12, seed=2).payoffs)
    assert not lumpable({a: Unlumped(x) for a, x in doctrine(sc).items()})


def decisions_on_paths(tree: FlatTree) -> list[int]:
    """The number of decision nodes on every path from the root to a leaf."""
    counts, stack = [], [(0, 0)]
    while stack:
        node, seen = stack.pop()
        seen += tree.player[node] >= 0
        if tree.children[node]:
            stack.extend((c, seen) for c in tree.children[node])
        else:
            counts.append(seen)
    return counts


def test_depth_is_counted_in_decisions() -> None:
    sc = load_scenario(MINI)
    sizes = []
    for depth in (1, 2, 3, 4):
        st = build_tree(sc, depth=depth, samples=8, seed=1)
        counts = decisions_on_paths(st.tree)
        assert max(counts) == depth  # never more, and some path has all of them
        cut = [n for n, note in enumerate(st.notes) if note.outcome == "cut"]
        assert cut and all(st.tree.payoff[n] for n in cut)
        sizes.append(st.size["nodes"])
    assert sizes == sorted(set(sizes))  # every extra decision grows the tree


def test_cuba_depth_two_and_three_differ() -> None:
    sc = load_scenario("cuba-1962")
    start = sc.clock.turn_of(dt.date(1962, 10, 16))
    two = build_tree(sc, start_turn=start, depth=2, samples=4)
    three = build_tree(sc, start_turn=start, depth=3, samples=4)
    assert max(decisions_on_paths(two.tree)) == 2
    assert max(decisions_on_paths(three.tree)) == 3
    assert two.size["nodes"] < three.size["nodes"]
