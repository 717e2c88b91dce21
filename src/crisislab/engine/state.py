"""The position of a batch of running crises: numpy arrays, one column per crisis."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from crisislab.engine.streams import CrisisStreams
from crisislab.scenario.model import Scenario


@dataclass
class BatchState:
    """Everything that changes during a run, for N crises at once.

    ``values`` is (variables, N); ``outcome`` and ``end_turn`` are -1 while a crisis runs.
    """

    turn: int
    values: np.ndarray
    done: np.ndarray
    outcome: np.ndarray
    end_turn: np.ndarray
    escalation: np.ndarray
    peak: np.ndarray
    fired: np.ndarray
    sent_turn: np.ndarray
    payoffs: np.ndarray
    streams: CrisisStreams
    last_actions: dict[str, np.ndarray] = field(default_factory=dict)
    last_events: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=bool))

    @property
    def n(self) -> int:
        return int(self.values.shape[1])

    @classmethod
    def initial(cls, scenario: Scenario, streams: CrisisStreams, turn: int = 0) -> BatchState:
        n = len(streams)
        values = np.array([[v.initial] for v in scenario.variables], dtype=np.float64)
        return cls(
            turn=turn,
            values=np.repeat(values, n, axis=1),
            done=np.zeros(n, dtype=bool),
            outcome=np.full(n, -1, dtype=np.int16),
            end_turn=np.full(n, -1, dtype=np.int32),
            escalation=np.zeros(n),
            peak=np.zeros(n),
            fired=np.zeros((len(scenario.events), n), dtype=bool),
            sent_turn=np.full((len(scenario.messages), n), -1, dtype=np.int32),
            payoffs=np.zeros((len(scenario.actors), n)),
            streams=streams,
            last_events=np.zeros((len(scenario.events), n), dtype=bool),
        )

    def tiled(self, streams: CrisisStreams) -> BatchState:
        """This state (of one crisis) copied to every crisis of ``streams``."""
        n = len(streams)

        def rep(a: np.ndarray) -> np.ndarray:
            return np.repeat(a[..., :1], n, axis=-1).copy()

        return BatchState(
            turn=self.turn, values=rep(self.values), done=rep(self.done),
            outcome=rep(self.outcome), end_turn=rep(self.end_turn),
            escalation=rep(self.escalation), peak=rep(self.peak), fired=rep(self.fired),
            sent_turn=rep(self.sent_turn), payoffs=rep(self.payoffs), streams=streams,
            last_actions={k: rep(v) for k, v in self.last_actions.items()},
            last_events=rep(self.last_events),
        )

    def select(self, rows: np.ndarray) -> BatchState:
        """The crises at ``rows`` as a batch of their own (copies)."""
        return BatchState(
            turn=self.turn, values=self.values[:, rows].copy(), done=self.done[rows].copy(),
            outcome=self.outcome[rows].copy(), end_turn=self.end_turn[rows].copy(),
            escalation=self.escalation[rows].copy(), peak=self.peak[rows].copy(),
            fired=self.fired[:, rows].copy(), sent_turn=self.sent_turn[:, rows].copy(),
            payoffs=self.payoffs[:, rows].copy(), streams=self.streams.subset(rows),
            last_actions={k: v[rows].copy() for k, v in self.last_actions.items()},
            last_events=self.last_events[:, rows].copy(),
        )
