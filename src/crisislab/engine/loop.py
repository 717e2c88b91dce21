"""The one observe-act-step loop: each seat observes and chooses, then the engine steps.

Every play-out (simulate, replay, a game, the debrief, the game tree, the learning
environment, and the agents that replay the record or look ahead) steps the engine here
and nowhere else. It knows seats only by what they do (:class:`Seat`), so the engine's
package imports no agent; :mod:`crisislab.runner`, above the agents, seats line-ups.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Protocol

import numpy as np

from crisislab.engine.engine import ChancePolicy, Engine, StepResult
from crisislab.engine.observation import Observation
from crisislab.engine.state import BatchState


class Seat(Protocol):
    """What the loop asks of a seat: a choice per crisis from what its actor observes.
    A seat may also offer ``policy(observation)`` (its chance of each option, which the
    engine draws from in a lumped batch) and declare ``stochastic`` and ``lumpable``
    (:func:`lumpable`); :class:`crisislab.agents.base.Agent` is the full contract."""

    def act(self, observation: Observation) -> np.ndarray: ...


def lumpable(agents: Mapping[str, Seat]) -> bool:
    """Whether crises that share a history may be stepped as one row: every agent is
    deterministic given what it observes, or draws its chance only through ``policy``
    (then the engine draws for it, crisis by crisis, and splits rows that differ)."""
    return all(
        not getattr(a, "stochastic", True) or getattr(a, "lumpable", False) for a in agents.values()
    )


# called by decide() after each seat's choice: (actor, choice per row, parents of the rows
# the choice's draw added), while the rows are still those the seat observed
Chosen = Callable[[str, np.ndarray, np.ndarray], None]
NO_PARENTS = np.zeros(0, dtype=np.int64)


# called by decide() after each seat's choice with what the seat observed and its choice
# (an analysis that asks other agents about the same observation, or reads it)
Seen = Callable[[str, Observation, np.ndarray], None]
# called by turns() with the turn's choices before the step applies them
Decided = Callable[[dict[str, np.ndarray]], None]


def decide(
    engine: Engine,
    state: BatchState,
    agents: Mapping[str, Seat],
    chosen: Chosen | None = None,
    seen: Seen | None = None,
    given: Mapping[str, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """Every seat's choice this turn, from what each observes: the one observe-and-act
    step of every play-out loop. In a lumped batch a seat with a ``policy`` has its
    choices drawn by the engine, which splits rows whose crises choose differently.
    ``chosen``, if given, hears each seat's choice before a later seat's draw can split
    the rows again (an analysis that writes what the seat did with its choice into the
    rows, as the tournament writes a language model's letters); ``seen``, if given, is
    handed each seat's observation with its choice (the record's likelihood asks the
    line-up about the observation the record's agent acted on). Seats in ``given`` (a
    person's choice, a learner's, a recorded game's, a branch of the game tree) are not
    asked: their choice is taken as it is."""
    choices: dict[str, np.ndarray] = {}
    for a in engine.players:
        if given is not None and a in given:
            choices[a] = np.asarray(given[a], dtype=np.int64)
            continue
        agent = agents[a]
        obs = engine.observe(state, a)
        policy = getattr(agent, "policy", None)
        parents = NO_PARENTS
        if state.lumped and policy is not None and getattr(agent, "stochastic", True):
            pick, parents = engine.draw_choices(state, a, policy(obs))
            if parents.size:
                choices = {b: np.concatenate([c, c[parents]]) for b, c in choices.items()}
            choices[a] = pick
        else:
            choices[a] = np.asarray(agent.act(obs), dtype=np.int64)
        if chosen is not None:
            chosen(a, choices[a], parents)
        if seen is not None:
            seen(a, obs, choices[a])
    return choices


def turns(
    engine: Engine,
    state: BatchState,
    agents: Mapping[str, Seat],
    *,
    until: int | None = None,
    trace: bool = False,
    chance: ChancePolicy | None = None,
    chosen: Chosen | None = None,
    seen: Seen | None = None,
    decided: Decided | None = None,
) -> Iterator[StepResult]:
    """The one observe-act-step loop: step ``state`` turn by turn with the seats'
    choices (:func:`decide`) until every crisis has ended (or the batch reaches turn
    ``until``), yielding each step's result once the state holds it, so a caller can
    follow the rows turn by turn or stop early by leaving the loop. ``trace`` and
    ``chance`` go to :meth:`Engine.step`; ``chosen`` and ``seen`` to :func:`decide`;
    ``decided``, if given, is handed each turn's choices before the step applies them."""
    while not state.done.all() and (until is None or state.turn < until):
        yield step_turn(
            engine,
            state,
            agents,
            trace=trace,
            chance=chance,
            chosen=chosen,
            seen=seen,
            decided=decided,
        )


def step_turn(
    engine: Engine,
    state: BatchState,
    agents: Mapping[str, Seat],
    *,
    given: Mapping[str, np.ndarray] | None = None,
    trace: bool = False,
    chance: ChancePolicy | None = None,
    chosen: Chosen | None = None,
    seen: Seen | None = None,
    decided: Decided | None = None,
) -> StepResult:
    """One turn of :func:`turns`: the seats' choices (:func:`decide`, the seats in
    ``given`` taking theirs as given), then :meth:`Engine.step`, the only place the engine
    is stepped with choices (a game, the learning environment and the game tree step
    one turn at a time through it, their players' choices given)."""
    choices = decide(engine, state, agents, chosen, seen, given)
    if decided is not None:
        decided(choices)
    return engine.step(state, choices, trace=trace, chance=chance)


def play_out(
    engine: Engine, state: BatchState, agents: Mapping[str, Seat], trace: bool = False
) -> list[StepResult]:
    """Step ``state`` until every crisis has ended (:func:`turns`); return the step
    results."""
    return list(turns(engine, state, agents, trace=trace))


def run_turns(
    engine: Engine, state: BatchState, agents: Mapping[str, Seat], until: int | None = None
) -> BatchState:
    """Step ``state`` (:func:`turns`) to its end or to turn ``until``, keeping no step
    results; return it."""
    for _ in turns(engine, state, agents, until=until):
        pass
    return state
