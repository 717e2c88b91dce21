"""The agent protocol: observe, then act, for a whole batch of crises at once."""

from __future__ import annotations

from typing import ClassVar, Protocol, runtime_checkable

import numpy as np

from crisislab.engine.observation import Observation


@runtime_checkable
class Agent(Protocol):
    """Chooses one action per crisis from what its actor observes.

    ``act`` returns an int array of local action indices (into ``observation.actions``),
    one per crisis; entries for ended crises are ignored. An agent that needs chance draws
    it from ``observation.uniform()``, so runs stay reproducible.
    """

    name: ClassVar[str]
    stochastic: ClassVar[bool]
    needs_model_server: ClassVar[bool]

    def act(self, observation: Observation) -> np.ndarray: ...


def first_legal(legal: np.ndarray, order: list[int]) -> np.ndarray:
    """Per crisis, the first action in ``order`` that is legal (the last item if none)."""
    if legal.shape[0] == 1:  # one crisis: read its row as plain booleans
        row = legal[0].tolist()
        return np.array([next((i for i in order if row[i]), order[-1])], dtype=np.int64)
    out = np.full(legal.shape[0], order[-1], dtype=np.int64)
    undecided = np.ones(legal.shape[0], dtype=bool)
    for idx in order:
        take = undecided & legal[:, idx]
        out[take] = idx
        undecided &= ~take
    return out
