"""How likely the documented path is under a line-up: the record's log-likelihood.

One crisis is walked along the record (every seat plays its documented choice, chance
events fire exactly where the track puts them). At each turn where the track documents
a seat's choice, the line-up's agent for that seat is asked what it would do on the same
observation: an agent with ``policy(observation) -> (N, k)`` probabilities contributes
the log-probability of the documented choice; an agent without it is deterministic, so
it contributes 0 if it makes the documented choice and minus infinity if not. Each chance
event that could fire contributes ``log h`` where the record fires it and ``log(1 - h)``
where it does not, with ``h`` the scenario's hazard on that turn. Turns the track is
silent about for a seat are walked with the record's default but not scored.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from crisislab.agents.base import Agent
from crisislab.engine.engine import Engine
from crisislab.engine.loop import turns
from crisislab.engine.observation import Observation
from crisislab.runner import complete_agents, historical_agents, start_batch
from crisislab.scenario.model import Scenario


@dataclass(frozen=True)
class Miss:
    """A documented choice the line-up gives no chance, or a chance event it rules out."""

    date: str  # the turn, like "1962-10-14 am"
    actor: str | None
    choice: str
    agent_choice: str | None  # what a deterministic seat would do instead


@dataclass(frozen=True)
class PathLikelihood:
    choices: float  # log-likelihood of the documented choices (natural log)
    chance: float  # of the chance events along the record
    n_choices: int
    n_chance_turns: int  # (event, turn) pairs where a chance event could fire
    by_actor: dict[str, float]
    misses: tuple[Miss, ...]
    unavailable: int  # documented choices not available on the record's own path

    @property
    def total(self) -> float:
        return self.choices + self.chance

    def to_json(self) -> dict[str, Any]:
        def num(x: float) -> float | str:
            return x if math.isfinite(x) else "-inf"  # JSON has no infinity

        return {
            "total": num(self.total),
            "choices": num(self.choices),
            "chance": num(self.chance),
            "documented_choices": self.n_choices,
            "chance_draws": self.n_chance_turns,
            "by_actor": {a: num(v) for a, v in self.by_actor.items()},
            "ruled_out": [
                {
                    "date": m.date,
                    "actor": m.actor,
                    "choice": m.choice,
                    "agent_choice": m.agent_choice,
                }
                for m in self.misses
            ],
            "unavailable_on_record": self.unavailable,
            "note": "natural logarithms; -inf where a deterministic seat would not make "
            "a documented choice or a chance event has no chance",
        }


class _RecordChance:
    """Fires the record's chance events and scores each draw by its hazard."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.forced: dict[int, set[int]] = {}
        for step in scenario.track:
            if step.event is not None:
                self.forced.setdefault(step.turn, set()).add(scenario.event(step.event).index)
        self.log = 0.0
        self.draws = 0
        self.misses: list[Miss] = []

    def decide(self, event: int, hazard: np.ndarray, eligible: np.ndarray, turn: int) -> np.ndarray:
        fire = eligible & (event in self.forced.get(turn, set()))
        h = float(hazard[0])
        if eligible[0]:
            self.draws += 1
            p = h if fire[0] else 1.0 - h
            self.log += math.log(p) if p > 0 else -math.inf
            if p <= 0:
                self.misses.append(
                    Miss(
                        self.scenario.clock.turns[turn].label,
                        None,
                        self.scenario.events[event].id,
                        None,
                    )
                )
        return fire


def path_likelihood(scenario: Scenario, agents: Mapping[str, Agent]) -> PathLikelihood:
    """The log-likelihood of the documented path under ``agents`` (the line-up)."""
    seated = complete_agents(scenario, agents)
    record = historical_agents(scenario)
    engine = Engine(scenario)
    chance = _RecordChance(scenario)
    state = start_batch(engine, 1, 0)
    documented: dict[tuple[int, str], int] = {}
    for actor, agent in record.items():
        for turn, local in getattr(agent, "plan", {}).items():
            documented[(turn, actor)] = local
    by_actor = {a: 0.0 for a in engine.players}
    misses: list[Miss] = []
    counts = {"choices": 0, "unavailable": 0}

    def seen(actor: str, obs: Observation, _: np.ndarray) -> None:
        """Ask the line-up about the observation the record's agent acted on."""
        local = documented.get((state.turn, actor))
        if local is None:
            return
        if not bool(obs.legal[0, local]):
            counts["unavailable"] += 1
            return
        counts["choices"] += 1
        agent = seated[actor]
        policy = getattr(agent, "policy", None)
        if policy is not None:
            p = float(np.asarray(policy(obs))[0, local])
            lp = math.log(p) if p > 0 else -math.inf
            other = None
        else:
            pick = int(np.asarray(agent.act(obs)).reshape(-1)[0])
            lp = 0.0 if pick == local else -math.inf
            other = obs.actions[pick]
        by_actor[actor] += lp
        if lp == -math.inf:
            misses.append(Miss(obs.label, actor, obs.actions[local], other))

    for _ in turns(engine, state, record, chance=chance, seen=seen):
        pass
    n_choices, unavailable = counts["choices"], counts["unavailable"]
    choice_log = sum(by_actor.values())
    return PathLikelihood(
        choice_log,
        chance.log,
        n_choices,
        chance.draws,
        by_actor,
        tuple(misses + chance.misses),
        unavailable,
    )
