"""The record replayed once: what every player observed at each turn of the scenario's
documented history, the day each documented action first became available, and what a
documented concession's terms were worth to the leader when the record has it made.

The historical agent checks its path against the first; the leader model's pull of the
record (:meth:`~crisislab.agents.leader.LeaderModel.anchor`) is measured from the other
two. One replay serves every seat, made once per rules and parameters in a process and
handed to worker processes (:func:`known_records`, :func:`remember_records`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from crisislab.agents.historical import HistoricalAgent, ScriptedAgent
from crisislab.agents.leader import LeaderModel
from crisislab.engine.loop import turns
from crisislab.engine.observation import Observation
from crisislab.scenario.model import Scenario


@dataclass(frozen=True)
class RecordReplay:
    """The record replayed once: what every player observed at each turn, and the day
    each documented action first became available (``BatchState.opened``)."""

    observed: dict[str, dict[int, dict[str, float]]]
    opened: np.ndarray
    # per player, per documented concession (by action id), per documented use in the
    # track's order: what its terms were worth to the leader when the record has it
    # made (the leader model's deal value, feature ``payoff``)
    worth: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)


# One replay of the record serves every seat: the scenario's rules (content hash) and
# parameters name it. A few entries: a sensitivity sweep builds many variants in turn.
_RECORDS: dict[tuple[str, str, tuple[tuple[str, float], ...]], RecordReplay] = {}


def known_records() -> dict[Any, Any]:
    """The replays of the record made in this process, to hand to worker processes."""
    return dict(_RECORDS)


def remember_records(records: dict[Any, Any]) -> None:
    """Take replays of the record made elsewhere (see :func:`known_records`)."""
    _RECORDS.update(records)


def observed_record(scenario: Scenario, actor: str) -> dict[int, dict[str, float]]:
    """What ``actor`` observed at each turn of the replayed record."""
    return replayed_record(scenario).observed[actor]


def replayed_record(scenario: Scenario) -> RecordReplay:
    """The scenario's record replayed (once per rules and parameters, in a process)."""
    key = (scenario.id, scenario.content_hash, tuple(sorted(scenario.parameters.items())))
    if key not in _RECORDS:
        if len(_RECORDS) >= 8:
            _RECORDS.clear()
        _RECORDS[key] = _replay(scenario)
    return _RECORDS[key]


def _replay(scenario: Scenario) -> RecordReplay:
    """What every player observed at each turn of the replayed record."""
    from crisislab.engine.engine import Engine

    engine = Engine(scenario, chance="history")
    state = engine.start(1, seed=0)
    agents = {
        a: HistoricalAgent(scenario, a)
        if scenario.role(a) == "player"
        else ScriptedAgent(scenario, a)
        for a in engine.players
    }
    out: dict[str, dict[int, dict[str, float]]] = {a: {} for a in engine.players}
    models = {a: LeaderModel(scenario, a) for a in engine.players if scenario.role(a) == "player"}
    uses: dict[tuple[int, str], list[int]] = {}
    for step in scenario.track:
        if step.action is not None and step.actor is not None:
            uses.setdefault((step.turn, step.actor), []).append(scenario.action(step.action).local)
    worth: dict[str, dict[str, list[float]]] = {a: {} for a in models}

    def note(a: str, obs: Observation, choice: np.ndarray) -> None:
        out[a][state.turn] = {k: float(obs.values[k][0]) for k in obs.values}
        if a in models and (state.turn, a) in uses:
            m = models[a]
            x = m.features(obs, np.array([0])).x[0, :, 0]
            for j in uses[(state.turn, a)]:
                if m.concede[j]:
                    worth[a].setdefault(m.table.ids[j], []).append(float(x[j]))

    for _ in turns(engine, state, agents, seen=note):
        pass
    left = _left_the_record(scenario)
    if left is not None:  # no crisis is on the record after a forbidden documented step
        out = {a: {t: v for t, v in seen.items() if t <= left} for a, seen in out.items()}
    return RecordReplay(
        out,
        state.opened[:, 0].copy(),
        {a: {k: np.array(w) for k, w in ws.items()} for a, ws in worth.items()},
    )


def _left_the_record(scenario: Scenario) -> int | None:
    """The first turn at which the real record has someone take an action this scenario
    (a what-if) forbids, if any: from the next turn on, no crisis of it is on the record,
    since the documented step could not be taken. (Without this, a what-if's replay
    would count the steps after the missing one as the record, and Moscow would climb
    down on 28 October on the record's word with no reply from Washington.)"""
    base = scenario.departs_from
    if base is None:
        return None
    known = {a.id for a in scenario.actions}
    turns = [s.turn for s in base.track if s.action is not None and s.action not in known]
    return min(turns) if turns else None
