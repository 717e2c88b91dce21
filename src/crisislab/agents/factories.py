"""Agents built from other agents: the historical agent with its off-path doctrine."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from crisislab.agents.historical import HistoricalAgent, ScriptedAgent
from crisislab.agents.registry import AgentSpecError, agent_class
from crisislab.engine.observation import Observation
from crisislab.scenario.model import Scenario

# from this many rows the path check narrows variable by variable; below it one
# comparison of the whole observation costs less than a call per variable
NARROW_FROM = 512


class RecordAgent(HistoricalAgent):
    """Plays the documented choices; off the historical path, the scenario's fitted
    leader (:class:`~crisislab.agents.leader.LeaderAgent`).

    A crisis is *on the path* at a turn while everything this actor observes equals what
    it observed at that turn of the replayed record; there it plays the record's entry
    for the turn, or waits where the record is silent, exactly as the leader did. Once
    the crisis has left the path (chance went another way, another seat chose
    differently), the leader model chooses, with the record's pull on options the
    leader took near this date (the ``leader_record`` parameter). An action a what-if
    forces is taken whenever it is legal, on the path or off it.
    """

    name: ClassVar[str] = "historical"
    stochastic: ClassVar[bool] = True
    lumpable: ClassVar[bool] = True
    needs_model_server: ClassVar[bool] = False

    def __init__(self, scenario: Scenario, actor: str, fallback: Any) -> None:
        super().__init__(scenario, actor, fallback=fallback)
        self.forced = np.array([a.forced for a in scenario.actions_of(actor)], dtype=bool)
        self.reference = _observed_record(scenario, actor)
        # the order the path check reads variables in (see _on_path); it changes only
        # how fast the check runs, never what it finds
        self._check_order = list(next(iter(self.reference.values()), {}))

    def policy(self, observation: Observation) -> np.ndarray:
        """(N, k) choice probabilities: certain on the path, the fallback's off it."""
        n, k = observation.n, len(observation.actions)
        off = np.ones(n, dtype=bool)
        ref = self.reference.get(observation.turn)
        if ref is not None:
            off[self._on_path(observation, ref)] = False
        planned = self.plan.get(observation.turn)
        on_choice = np.full(n, self.default, dtype=np.int64)
        if planned is not None:
            on_choice = np.where(observation.is_legal(planned), planned, self.default)
        out = np.zeros((n, k))
        out[np.arange(n), on_choice] = 1.0
        if off.any():
            fb = self.fallback
            if hasattr(fb, "policy"):
                rows = np.flatnonzero(off)
                out[off] = np.asarray(fb.policy(observation, rows))[off]  # type: ignore[attr-defined]
            else:
                picks = np.asarray(fb.act(observation))  # type: ignore[attr-defined]
                out[off] = 0.0
                out[np.flatnonzero(off), picks[off]] = 1.0
        if self.forced.any():
            legal = observation.legal
            forced = legal & self.forced[None, :]
            rows = np.flatnonzero(forced.any(axis=1))
            if rows.size:
                first = np.argmax(forced[rows], axis=1)
                out[rows] = 0.0
                out[rows, first] = 1.0
        out[~observation.active] = 0.0
        return out

    def act(self, observation: Observation) -> np.ndarray:
        from crisislab.engine.engine import pick_option

        p = self.policy(observation)
        if getattr(self.fallback, "stochastic", False):
            return pick_option(p, observation.uniform())
        return np.argmax(p, axis=1).astype(np.int64)

    def _on_path(self, observation: Observation, ref: dict[str, float]) -> np.ndarray:
        """The rows whose every observed value equals the record's at this turn.

        In large batches variables are checked one at a time on the rows still in the
        running, the ones that last ruled rows out first: off the record most rows
        differ in a variable or two, so the check costs about one pass over the batch,
        not one per variable."""
        if observation.n < NARROW_FROM:
            names, matrix = observation.matrix
            record = np.array([ref[k] for k in names])[:, None]
            equal = (matrix == record) | (np.isnan(matrix) & np.isnan(record))
            return np.flatnonzero(equal.all(axis=0))
        rows: np.ndarray | None = None
        for name in list(self._check_order):
            seen = observation.column(name, rows)
            expected = ref[name]
            same = np.isnan(seen) if np.isnan(expected) else seen == expected
            if same.all():
                continue
            kept = np.flatnonzero(same)
            rows = kept if rows is None else rows[kept]
            self._check_order.remove(name)
            self._check_order.insert(0, name)
            if rows.size == 0:
                break
        return np.arange(observation.n) if rows is None else rows


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


def _observed_record(scenario: Scenario, actor: str) -> dict[int, dict[str, float]]:
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
    agents = {a: HistoricalAgent(scenario, a) if scenario.role(a) == "player"
              else ScriptedAgent(scenario, a) for a in engine.players}
    from crisislab.agents.leader import LeaderModel

    out: dict[str, dict[int, dict[str, float]]] = {a: {} for a in engine.players}
    models = {a: LeaderModel(scenario, a) for a in engine.players
              if scenario.role(a) == "player"}
    uses: dict[tuple[int, str], list[int]] = {}
    for step in scenario.track:
        if step.action is not None and step.actor is not None:
            uses.setdefault((step.turn, step.actor), []).append(
                scenario.action(step.action).local)
    worth: dict[str, dict[str, list[float]]] = {a: {} for a in models}
    while not state.done.all():
        choices = {}
        for a in engine.players:
            obs = engine.observe(state, a)
            out[a][state.turn] = {k: float(obs.values[k][0]) for k in obs.values}
            if a in models and (state.turn, a) in uses:
                m = models[a]
                x = m.features(obs, np.array([0])).x[0, :, 0]
                for j in uses[(state.turn, a)]:
                    if m.concede[j]:
                        worth[a].setdefault(m.table.ids[j], []).append(float(x[j]))
            choices[a] = agents[a].act(obs)
        engine.step(state, choices)
    left = _left_the_record(scenario)
    if left is not None:  # no crisis is on the record after a forbidden documented step
        out = {a: {t: v for t, v in seen.items() if t <= left} for a, seen in out.items()}
    return RecordReplay(out, state.opened[:, 0].copy(),
                        {a: {k: np.array(w) for k, w in ws.items()} for a, ws in worth.items()})


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


def historical(scenario: Scenario, actor: str, fallback: str | None = None,
               **options: Any) -> RecordAgent:
    """``historical``: the documented choices, and off the record the scenario's fitted
    leader, drawn to the record's choices near their dates (``fallback=NAME`` plays
    another agent off the record; remaining options go to it, e.g.
    ``historical:fallback=political,hawk_weight=0.6`` or
    ``historical:escalation=1`` for the leader itself)."""
    from crisislab.agents.leader import LeaderAgent, coefficients

    if fallback == "historical":
        raise AgentSpecError("the historical agent cannot fall back on itself; name a "
                             "doctrine, e.g. fallback=dove")
    if fallback is None or fallback == "leader":
        if scenario.role(actor) != "player":
            return RecordAgent(scenario, actor, fallback=ScriptedAgent(scenario, actor))
        options.setdefault("record", coefficients(scenario, actor)["record"])
        replay = replayed_record(scenario)
        options.setdefault("record_opened", replay.opened)
        options.setdefault("record_worth",
                           replayed_record(scenario.history).worth.get(actor, {}))
        return RecordAgent(scenario, actor, fallback=LeaderAgent(scenario, actor, **options))
    cls = agent_class(fallback)
    if getattr(cls, "stochastic", True) and not getattr(cls, "lumpable", False):
        raise AgentSpecError(f"fallback '{fallback}' draws chance of its own, so the "
                             "historical agent could not be lumped; use the leader model "
                             "or a doctrine such as hawk, dove, rational, organizational "
                             "or political")
    try:
        doctrine = cls(scenario, actor, **options)
    except TypeError as e:
        raise AgentSpecError(f"fallback '{fallback}' does not take these options: {e}"
                             ) from None
    return RecordAgent(scenario, actor, fallback=doctrine)
