"""What one actor can know at one turn, for every crisis of a batch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from crisislab.engine.streams import CrisisStreams


@dataclass(frozen=True)
class Observation:
    """An actor's view. ``values`` holds only variables the actor can ever observe, with
    NaN in crises where it cannot see them now (``known`` says which). ``seen_actions``
    gives, per actor, the local index of the action it took last turn, or -1 where this
    actor could not see it. Stochastic agents draw from :meth:`uniform`, their own stream
    of the crisis's random numbers, never from a generator of their own."""

    actor: str
    turn: int
    label: str
    actions: tuple[str, ...]
    legal: np.ndarray
    values: dict[str, np.ndarray]
    known: dict[str, np.ndarray]
    seen_actions: dict[str, np.ndarray]
    seen_events: dict[str, np.ndarray]
    active: np.ndarray
    streams: CrisisStreams
    stream: int

    @property
    def n(self) -> int:
        return int(self.legal.shape[0])

    def uniform(self, draw: int = 0) -> np.ndarray:
        """Per-crisis uniforms in [0, 1) for this actor, turn and ``draw`` number."""
        if not 0 <= draw < 4096:
            raise ValueError("draw must be in 0..4095")
        return self.streams.uniform(self.turn, self.stream + draw)

    def row(self, i: int = 0) -> dict[str, Any]:
        """Crisis ``i``'s view as plain data (for people, language models and tests)."""
        return {
            "actor": self.actor,
            "turn": self.turn,
            "date": self.label,
            "state": {k: float(v[i]) for k, v in self.values.items() if self.known[k][i]},
            "legal": [a for a, ok in zip(self.actions, self.legal[i], strict=True) if ok],
            "seen_actions": {k: int(v[i]) for k, v in self.seen_actions.items()},
            "seen_events": sorted(k for k, v in self.seen_events.items() if v[i]),
        }
