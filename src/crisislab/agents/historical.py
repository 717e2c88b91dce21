"""Agents that follow the record, or a scripted actor's rules."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from crisislab.agents.base import first_legal
from crisislab.engine.observation import Observation
from crisislab.scenario.model import Scenario


class HistoricalAgent:
    """Plays the documented choice of its actor at each turn of the historical track.

    Where the track has nothing for the turn, or its choice is not available in a crisis
    that has left the historical path, it plays ``fallback`` (by default the actor's
    default action: doing nothing in particular).
    """

    name: ClassVar[str] = "historical"
    stochastic: ClassVar[bool] = False
    needs_model_server: ClassVar[bool] = False

    def __init__(self, scenario: Scenario, actor: str, fallback: object | None = None) -> None:
        self.actor = actor
        self.local = {a.id: a.local for a in scenario.actions_of(actor)}
        self.default = scenario.default_action(actor).local
        self.plan: dict[int, int] = {}
        for step in scenario.track:
            # a dated entry wins over a standing one on the same turn
            if (
                step.actor == actor
                and step.action is not None
                and (step.turn not in self.plan or not step.standing)
            ):
                self.plan[step.turn] = self.local[step.action]
        self.fallback = fallback

    def act(self, observation: Observation) -> np.ndarray:
        if self.fallback is not None:
            base = np.asarray(self.fallback.act(observation))  # type: ignore[attr-defined]
        else:
            base = np.full(observation.n, self.default, dtype=np.int64)
        planned = self.plan.get(observation.turn)
        if planned is None:
            return base
        return np.where(observation.is_legal(planned), planned, base)


class ScriptedAgent:
    """A scripted actor's rule: its first available action in file order other than its
    default, else the default."""

    name: ClassVar[str] = "scripted"
    stochastic: ClassVar[bool] = False
    needs_model_server: ClassVar[bool] = False

    def __init__(self, scenario: Scenario, actor: str) -> None:
        default = scenario.default_action(actor).local
        self.order = [a.local for a in scenario.actions_of(actor) if a.local != default]
        self.order.append(default)

    def act(self, observation: Observation) -> np.ndarray:
        return first_legal(observation.legal, self.order)


class RandomAgent:
    """Uniform over the legal actions: the baseline every doctrine must beat."""

    name: ClassVar[str] = "random"
    stochastic: ClassVar[bool] = True
    needs_model_server: ClassVar[bool] = False

    def __init__(self, scenario: Scenario, actor: str) -> None:
        self.actor = actor

    def act(self, observation: Observation) -> np.ndarray:
        return uniform_pick(observation.legal, observation.uniform())


def uniform_pick(legal: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Per row of ``legal`` (N, k), the ``floor(u * count)``-th legal option (counting
    from 0), or option 0 where none is legal: the first option whose running count of
    legal options passes that rank. The counts are kept in the smallest integer type
    that holds ``k``, which makes the running count several times cheaper."""
    counts = np.count_nonzero(legal, axis=1)
    target = np.floor(u * np.maximum(counts, 1)).astype(np.int64)
    small = np.int8 if legal.shape[1] < 127 else np.int16 if legal.shape[1] < 32767 else np.int64
    ranks = np.cumsum(legal, axis=1, dtype=small)
    return np.argmax(ranks > target.astype(small)[:, None], axis=1).astype(np.int64)
