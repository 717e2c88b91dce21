"""Running whole crises: agents in, results out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from crisislab.agents.base import Agent
from crisislab.agents.historical import HistoricalAgent, ScriptedAgent
from crisislab.engine.engine import ChanceMode, Engine, StepResult
from crisislab.engine.state import BatchState
from crisislab.scenario.model import Scenario


@dataclass(frozen=True)
class BatchResult:
    """How each crisis of a batch ended. Arrays are indexed like ``crisis_ids``."""

    scenario: str
    version: str
    content_hash: str
    seed: int
    crisis_ids: np.ndarray
    outcome: np.ndarray  # outcome index
    end_turn: np.ndarray
    peak_escalation: np.ndarray
    payoffs: np.ndarray  # (actors, N)
    outcome_ids: tuple[str, ...]

    def outcome_names(self) -> list[str]:
        return [self.outcome_ids[i] for i in self.outcome]


def complete_agents(scenario: Scenario, agents: Mapping[str, Agent]) -> dict[str, Agent]:
    """Fill the seats nobody was given: scripted actors follow their script; a missing
    player is an error."""
    out: dict[str, Agent] = dict(agents)
    unknown = set(out) - set(scenario.players)
    if unknown:
        raise KeyError(f"no such acting actor: {', '.join(sorted(unknown))}")
    for actor in scenario.players:
        if actor in out:
            continue
        if scenario.role(actor) == "scripted":
            out[actor] = ScriptedAgent(scenario, actor)
        else:
            raise KeyError(f"no agent given for the player '{actor}'")
    return out


def historical_agents(scenario: Scenario) -> dict[str, Agent]:
    return {a: HistoricalAgent(scenario, a) for a in scenario.players}


def lumpable(agents: Mapping[str, Agent]) -> bool:
    """Whether crises that share a history may be stepped as one row: every agent is
    deterministic given what it observes, or draws its chance only through ``policy``
    (then the engine draws for it, crisis by crisis, and splits rows that differ)."""
    return all(not getattr(a, "stochastic", True) or getattr(a, "lumpable", False)
               for a in agents.values())


def decide(engine: Engine, state: BatchState,
           agents: Mapping[str, Agent]) -> dict[str, np.ndarray]:
    """Every seat's choice this turn, from what each observes: the one observe-and-act
    step of every play-out loop. In a lumped batch a seat with a ``policy`` has its
    choices drawn by the engine, which splits rows whose crises choose differently."""
    choices: dict[str, np.ndarray] = {}
    for a in engine.players:
        agent = agents[a]
        obs = engine.observe(state, a)
        policy = getattr(agent, "policy", None)
        if state.lumped and policy is not None and getattr(agent, "stochastic", True):
            pick, parents = engine.draw_choices(state, a, policy(obs))
            if parents.size:
                choices = {b: np.concatenate([c, c[parents]]) for b, c in choices.items()}
            choices[a] = pick
        else:
            choices[a] = np.asarray(agent.act(obs), dtype=np.int64)
    return choices


def play_out(engine: Engine, state: BatchState, agents: Mapping[str, Agent],
             trace: bool = False) -> list[StepResult]:
    """Step ``state`` until every crisis has ended; return the step results."""
    steps = []
    while not state.done.all():
        steps.append(engine.step(state, decide(engine, state, agents), trace=trace))
    return steps


def run_batch(scenario: Scenario, agents: Mapping[str, Agent], n: int, seed: int = 0,
              chance: ChanceMode = "free", crisis_ids: np.ndarray | None = None,
              start_turn: int | None = None) -> BatchResult:
    """Run ``n`` crises to their end (crisis ids ``0..n-1`` unless given)."""
    engine = Engine(scenario, chance=chance)
    seated = complete_agents(scenario, agents)
    lumped = lumpable(seated)
    state = engine.reset(n, seed, crisis_ids=crisis_ids, start_turn=start_turn, lumped=lumped)
    play_out(engine, state, seated)
    return result_of(scenario, state, seed)


def result_of(scenario: Scenario, state: BatchState, seed: int) -> BatchResult:
    """The per-crisis results of a finished batch (lumped or not)."""
    return BatchResult(
        scenario=scenario.id, version=scenario.version, content_hash=scenario.content_hash,
        seed=seed, crisis_ids=state.streams.crisis_ids.copy(),
        outcome=state.crisis_field("outcome").copy(),
        end_turn=state.crisis_field("end_turn").copy(),
        peak_escalation=state.crisis_field("peak").copy(),
        payoffs=state.crisis_field("payoffs").copy(),
        outcome_ids=tuple(o.id for o in scenario.outcomes),
    )


def run_onward(scenario: Scenario, state: BatchState, agents: Mapping[str, Agent], n: int,
               seed: int = 0, row: int = 0, chance: ChanceMode = "free") -> BatchResult:
    """Run ``n`` crises onward from crisis ``row`` of ``state`` (say, a game in progress):
    each copy gets its own random stream from ``seed``, so the estimate is reproducible."""
    from crisislab.engine.streams import CrisisStreams

    engine = Engine(scenario, chance=chance)
    seated = complete_agents(scenario, agents)
    streams = CrisisStreams(seed, np.arange(n, dtype=np.int64))
    one = state.select(np.array([row]))
    lumped = lumpable(seated)
    batch = one.lump(streams) if lumped else one.tiled(streams)
    play_out(engine, batch, seated)
    return result_of(scenario, batch, seed)
