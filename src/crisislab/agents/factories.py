"""Agents built from other agents and the replayed record: the historical agent with its
off-path doctrine, and the leader model handed the record it is drawn to."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from crisislab.agents.historical import HistoricalAgent, ScriptedAgent
from crisislab.agents.leader import LeaderAgent, coefficients
from crisislab.agents.record import observed_record, replayed_record
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
        self.reference = observed_record(scenario, actor)
        # the order the path check reads variables in (see _on_path); it changes only
        # how fast the check runs, never what it finds
        self._check_order = list(next(iter(self.reference.values()), {}))
        # per (turn, names observed): the record's values in that order (_on_path_one)
        self._ref_rows: dict[tuple[int, tuple[str, ...]], list[float]] = {}

    def policy(self, observation: Observation) -> np.ndarray:
        """(N, k) choice probabilities: certain on the path, the fallback's off it."""
        n, k = observation.n, len(observation.actions)
        if n == 1:
            return self._policy_one(observation, k)
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

    def _policy_one(self, observation: Observation, k: int) -> np.ndarray:
        """:meth:`policy` of a batch of one row (a game, a crisis alone), its checks on
        plain numbers: the same probabilities."""
        out = np.zeros((1, k))
        if not observation.active.item(0):
            return out
        ref = self.reference.get(observation.turn)
        off = ref is None or not self._on_path_one(observation, ref)
        if off:
            fb = self.fallback
            if hasattr(fb, "policy"):
                out[0] = np.asarray(fb.policy(observation, np.zeros(1, dtype=np.int64)))[0]  # type: ignore[attr-defined]
            else:
                out[0, int(np.asarray(fb.act(observation))[0])] = 1.0  # type: ignore[attr-defined]
        else:
            planned = self.plan.get(observation.turn)
            legal = observation.legal[0]
            out[0, planned if planned is not None and legal[planned] else self.default] = 1.0
        if self.forced.any():
            forced = observation.legal[0] & self.forced
            if forced.any():
                out[0] = 0.0
                out[0, int(np.argmax(forced))] = 1.0
        return out

    def _on_path_one(self, observation: Observation, ref: dict[str, float]) -> bool:
        """:meth:`_on_path` of one row: whether every observed value equals the
        record's (NaN where both are)."""
        names, matrix = observation.matrix
        seen = matrix[:, 0].tolist()
        key = (observation.turn, names)
        record = self._ref_rows.get(key)
        if record is None:
            record = [ref[k] for k in names]
            self._ref_rows[key] = record
        if seen == record:
            return True
        return all(a == b or (a != a and b != b) for a, b in zip(seen, record, strict=True))

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


def historical(
    scenario: Scenario, actor: str, fallback: str | None = None, **options: Any
) -> RecordAgent:
    """``historical``: the documented choices, and off the record the scenario's fitted
    leader, drawn to the record's choices near their dates (``fallback=NAME`` plays
    another agent off the record; remaining options go to it, e.g.
    ``historical:fallback=political,hawk_weight=0.6`` or
    ``historical:escalation=1`` for the leader itself)."""
    if fallback == "historical":
        raise AgentSpecError(
            "the historical agent cannot fall back on itself; name a doctrine, e.g. fallback=dove"
        )
    if fallback is None or fallback == "leader":
        if scenario.role(actor) != "player":
            return RecordAgent(scenario, actor, fallback=ScriptedAgent(scenario, actor))
        options.setdefault("record", coefficients(scenario, actor)["record"])
        replay = replayed_record(scenario)
        options.setdefault("record_opened", replay.opened)
        options.setdefault("record_worth", replayed_record(scenario.history).worth.get(actor, {}))
        return RecordAgent(scenario, actor, fallback=LeaderAgent(scenario, actor, **options))
    cls = agent_class(fallback)
    if getattr(cls, "stochastic", True) and not getattr(cls, "lumpable", False):
        raise AgentSpecError(
            f"fallback '{fallback}' draws chance of its own, so the "
            "historical agent could not be lumped; use the leader model "
            "or a doctrine such as hawk, dove, rational, organizational "
            "or political"
        )
    try:
        doctrine = cls(scenario, actor, **options)
    except TypeError as e:
        raise AgentSpecError(f"fallback '{fallback}' does not take these options: {e}") from None
    return RecordAgent(scenario, actor, fallback=doctrine)


def leader(scenario: Scenario, actor: str, record: Any = None, **options: Any) -> LeaderAgent:
    """``leader``: the scenario's fitted leader model (:class:`LeaderAgent`); with a pull
    of the record (``leader:record=8``), handed the replayed record it measures the pull
    on (the day each documented option opened, what the record's concessions were worth)."""
    if _pulled(record) and options.get("record_opened") is None:
        options["record_opened"] = replayed_record(scenario).opened
        options["record_worth"] = replayed_record(scenario.history).worth.get(actor, {})
    return LeaderAgent(scenario, actor, record=record, **options)


def _pulled(record: Any) -> bool:
    """Whether ``record`` asks for a pull of the record (a bad value is the leader's to
    report)."""
    try:
        return record is not None and bool(float(record))
    except (TypeError, ValueError):
        return False
