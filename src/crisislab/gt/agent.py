"""An agent that plays a solved equilibrium of the scenario's game tree.

At the decision points of the abstract tree (:mod:`crisislab.gt.tree`) it plays the
behaviour strategy that the solver found (``crisislab gt solve``); everywhere else, and
wherever the crisis has left the tree (past its cut, or into a branch the tree did not
keep), it plays its doctrine: the historical track, falling back to doing nothing in
particular. So equilibrium play can be set beside history in the simulator.

The tree and its solution are computed once per (scenario, options) and shared by the
agents of all actors. The agent lives with the game tree it plays; the agent registry
names it by this module's path (``equilibrium``), imported only when it is asked for, so
the agents layer never imports the tree.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

import numpy as np

from crisislab.agents.historical import HistoricalAgent
from crisislab.engine.observation import Observation
from crisislab.scenario.model import Scenario

_SOLVED: dict[tuple[Any, ...], tuple[Any, list[list[float]]]] = {}


def solved_tree(
    scenario: Scenario,
    depth: int = 3,
    method: str = "auto",
    start: str = "",
    samples: int = 100,
    seed: int = 0,
) -> tuple[Any, list[list[float]]]:
    """The abstract tree of ``scenario`` and the first equilibrium's behaviour profile."""
    from crisislab.gt.flat import to_gambit
    from crisislab.gt.solve import solve_game
    from crisislab.gt.tree import build_tree

    key = (
        scenario.content_hash,
        tuple(sorted(scenario.parameters.items())),
        depth,
        method,
        start,
        samples,
        seed,
    )
    if key not in _SOLVED:
        start = start or scenario.tree_start or ""
        if start in scenario.clock.phases:
            start_turn: int | None = scenario.clock.first_of_phase(start)
        else:
            start_turn = scenario.clock.turn_of(dt.date.fromisoformat(start)) if start else None
        st = build_tree(scenario, start_turn=start_turn, depth=depth, samples=samples, seed=seed)
        result = solve_game(to_gambit(st.tree), method)
        _SOLVED[key] = (st, [list(map(float, row)) for row in result.profiles[0]])
    return _SOLVED[key]


class EquilibriumAgent:
    """Plays the equilibrium behaviour strategy at the tree's decision points and its
    doctrine (the historical track, else the default action) elsewhere. Options:
    ``depth``, ``method``, ``start`` (a date), ``samples``, ``seed``, ``mixed`` (draw
    from mixed strategies with the crisis's own stream instead of taking the likeliest
    action)."""

    name: ClassVar[str] = "equilibrium"
    stochastic: ClassVar[bool] = True
    needs_model_server: ClassVar[bool] = False

    def __init__(
        self,
        scenario: Scenario,
        actor: str,
        depth: int = 3,
        method: str = "auto",
        start: str = "",
        samples: int = 100,
        seed: int = 0,
        mixed: bool = False,
    ) -> None:
        self.actor = actor
        self.doctrine = HistoricalAgent(scenario, actor)
        self.tree, self.profile = solved_tree(scenario, depth, method, start, samples, seed)
        self.mixed = mixed
        self.local = {a.id: a.local for a in scenario.actions_of(actor)}
        self.history: list[tuple[Any, ...]] = []
        self.own: list[tuple[int, ...]] = []
        self.last_turn = -1

    def act(self, observation: Observation) -> np.ndarray:
        from crisislab.gt.tree import obs_key

        base = np.asarray(self.doctrine.act(observation), dtype=np.int64)
        n = observation.n
        if observation.turn <= self.last_turn or len(self.history) != n:
            self.history = [() for _ in range(n)]
            self.own = [() for _ in range(n)]
        self.last_turn = observation.turn
        if observation.turn < self.tree.start_turn:
            return base
        out = base.copy()
        u = observation.uniform() if self.mixed else None
        for i in range(n):
            if not observation.active[i]:
                continue
            self.history[i] = self.history[i] + (obs_key(observation.row(i)),)
            k = self.tree.keys.get((self.actor, self.history[i], self.own[i]))
            if k is None:
                continue
            info = self.tree.tree.infosets[k]
            probs = self.profile[k]
            if u is not None:
                j = int(np.searchsorted(np.cumsum(probs), u[i] * sum(probs), side="right"))
                j = min(j, len(probs) - 1)
            else:
                j = int(np.argmax(probs))
            choice = self.local[info.actions[j]]
            if observation.legal[i, choice]:
                out[i] = choice
                self.own[i] = self.own[i] + (choice,)
        return out
