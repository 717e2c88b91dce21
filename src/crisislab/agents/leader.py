"""The leaders' choice model: one quantal-response model for every player of every scenario.

A leader values each legal option by what the scenario itself says (its payoffs, its
hazards, its escalation scale, the public commitments it records) and chooses among them
with logit probabilities (McFadden's conditional logit; McKelvey & Palfrey's quantal
response, 1995). The utility of option ``j`` to actor ``i`` is

    U_j =   payoff     * gain_j          (progress towards outcomes, valued by i's payoffs)
          - danger     * risk_j          (change in the expected loss from war, per day)
          - audience   * concede_j * c_i (backing down after public commitments c_i)
          + act_i      * [j not waiting] + log(turn days) * [j not waiting]
          + escalation_i * rung_j / top + force_i * [rung_j >= force_from]
          + concession_i * concede_j
          + record     * near_j          (only off the record, for the historical agent)

The coefficients are scenario parameters (``leader_payoff``, ``leader_usa_act``...), fitted
to the documented choices by ``crisislab fit`` (maximum likelihood) and varied like any
other parameter. ``log(turn days)`` makes ``act`` a propensity per day, so that a week of
turns and a half-day of turns mean the same thing. ``near_j`` is the pull of the record
on a crisis that has left it: ``exp(-|days from the documented date|/record_days)`` for an
option the leader took in 1962 near this date.

Everything is computed once per distinct situation the actor observes (a batch of
thousands of crises holds a few dozen), from its observation only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from crisislab.agents.doctrines import ActionTable, _after, _clauses, _progress
from crisislab.agents.registry import AgentSpecError
from crisislab.engine.engine import pick_option
from crisislab.engine.observation import Observation
from crisislab.scenario.expr import Value, evaluate, names_in
from crisislab.scenario.model import Scenario, VariableRule

SHARED = ("payoff", "danger", "audience")
PER_ACTOR = ("act", "escalation", "force", "concession")
FEATURES = (*SHARED, *PER_ACTOR)
# used where a scenario declares no parameter of that name (see docs/model.md)
DEFAULTS: dict[str, float] = {
    "payoff": 2.0, "danger": 2.0, "audience": 0.5, "act": -3.0, "escalation": -1.0,
    "force": -3.0, "concession": 0.0, "record": 4.0, "record_days": 2.0,
}
PRESETS: dict[str, dict[str, float]] = {
    # doctrines as settings of the one model (see docs/agents.md)
    "hawk": {"escalation": 3.0, "force": 0.0, "concession": -3.0, "danger": 0.0},
    "dove": {"escalation": -4.0, "force": -8.0, "concession": 2.0, "danger": 6.0},
}


def parameter_name(feature: str, actor: str) -> str:
    """The scenario parameter holding ``feature``'s coefficient for ``actor``."""
    return f"leader_{actor}_{feature}" if feature in PER_ACTOR else f"leader_{feature}"


def coefficients(scenario: Scenario, actor: str) -> dict[str, float]:
    """The actor's coefficients: the scenario's ``leader_*`` parameters, else defaults."""
    out = {}
    for f in (*FEATURES, "record", "record_days"):
        out[f] = float(scenario.parameters.get(parameter_name(f, actor), DEFAULTS[f]))
    return out


@dataclass(frozen=True)
class Features:
    """The model's inputs for some rows of an observation: ``x`` is (rows, options,
    features) in the order of :data:`FEATURES`; ``offset`` (rows, options) is the fixed
    part of the utility (the turn's length), ``near`` the pull of the record."""

    x: np.ndarray
    offset: np.ndarray
    near: np.ndarray
    legal: np.ndarray


class LeaderModel:
    """The features of one actor's options, as the scenario defines them."""

    def __init__(self, scenario: Scenario, actor: str) -> None:
        self.scenario = scenario
        self.actor = actor
        self.table = ActionTable(scenario, actor)
        t = self.table
        spec = scenario.spec.leaders
        top = t.top
        self.force_from = float(spec.force_from) if spec is not None else 0.6 * top
        seat = spec.actors.get(actor) if spec is not None else None
        self.commitment = seat.commitment if seat is not None else None
        self.concede = np.zeros(t.k)
        if seat is not None:
            for aid in seat.concessions:
                self.concede[t.ids.index(aid)] = 1.0
        self.parameters = dict(scenario.parameters)
        self.variables: dict[str, VariableRule] = {v.id: v for v in scenario.variables}
        self.outcomes = [(o, _clauses(o.when)) for o in scenario.outcomes]
        self.status_quo = next((o for o in scenario.outcomes if o.default),
                               scenario.outcomes[-1])
        # the chance events that can start or widen a war, with the outcome each leads to
        wars = sorted((o for o in scenario.outcomes if o.escalation > 0),
                      key=lambda o: o.escalation)
        self.dangers = []
        for e in scenario.events:
            if e.kind != "chance" or not e.escalation or e.hazard is None:
                continue
            target = next((o for o in wars if o.escalation >= e.escalation), None)
            if target is not None:
                self.dangers.append((e, target))
        # per option, the outcomes and dangers its effects can move (the rest cancel out)
        self.touches: list[tuple[list[int], list[int]]] = []
        for rule in t.rules:
            targets = {e.target for e in rule.effects}
            outs = [i for i, (o, clauses) in enumerate(self.outcomes)
                    if clauses and o.id != self.status_quo.id
                    and targets & (set().union(*(names_in(c) for c in clauses))
                                   | names_in_payoffs(o, actor))]
            dangers = [i for i, (e, _) in enumerate(self.dangers)
                       if targets & (names_in(e.when) | names_in(e.hazard))]
            self.touches.append((outs, dangers))
        self.cache: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}
        self.waiting = np.ones(t.k)
        self.waiting[t.default] = 0.0
        self.static = np.stack([t.level / top, (t.level >= self.force_from).astype(float),
                                self.concede], axis=1)
        # the days on which the record has this actor take each option
        clock = scenario.clock.turns
        self.record_days: list[np.ndarray] = [np.zeros(0) for _ in range(t.k)]
        for step in scenario.track:
            if step.actor == actor and step.action is not None:
                j = t.ids.index(step.action)
                self.record_days[j] = np.append(self.record_days[j], clock[step.turn].day)

    # ---- the environment the actor can evaluate -------------------------------------------

    def env(self, obs: Observation, rows: np.ndarray) -> dict[str, Value]:
        """What the actor observes in ``rows``, as expressions read it (NaN where hidden)."""
        env: dict[str, Value] = dict(self.parameters)
        hidden = np.full(rows.size, np.nan)
        for v in self.variables:
            env[v] = hidden
        names, matrix = obs.matrix
        for i, name in enumerate(names):
            env[name] = matrix[i, rows]
        for b, value in obs.builtins().items():
            env[b] = value[rows] if isinstance(value, np.ndarray) and value.ndim else value
        return env

    def _payoffs(self, env: Mapping[str, Value], n: int) -> dict[str, np.ndarray]:
        out = {}
        for o, _ in self.outcomes:
            node = o.payoffs.get(self.actor)
            value = 0.0 if node is None else evaluate(node, env)
            with np.errstate(invalid="ignore"):
                out[o.id] = np.nan_to_num(np.broadcast_to(np.asarray(value, float), (n,)))
        return out

    def _value(self, env: Mapping[str, Value], n: int, spread: np.ndarray,
               which: list[int]) -> np.ndarray:
        """How far the state has come towards the outcomes ``which``, valued by the
        actor's payoffs against the status quo, in units of its payoff spread."""
        if not which:
            return np.zeros(n)
        pay = self._payoffs(env, n)
        sq = pay[self.status_quo.id]
        total = np.zeros(n)
        for i in which:
            o, clauses = self.outcomes[i]
            total += _progress(clauses, env, n) * (pay[o.id] - sq)
        return total / spread

    def _risk(self, env: Mapping[str, Value], n: int, loss: dict[str, np.ndarray],
              which: list[int]) -> np.ndarray:
        """The expected loss per day from the chance events ``which`` of those that start
        or widen a war."""
        total = np.zeros(n)
        days = float(np.asarray(env["turn_days"]))
        for i in which:
            e, target = self.dangers[i]
            with np.errstate(invalid="ignore"):
                live = np.broadcast_to(np.nan_to_num(np.asarray(evaluate(e.when, env),
                                                                dtype=float)), (n,)) > 0
                h = np.nan_to_num(np.broadcast_to(np.asarray(evaluate(e.hazard, env),
                                                             dtype=float), (n,)))
            rate = np.maximum(h, 0.0) if e.per_day else np.clip(h, 0, 1) / max(days, 1e-9)
            total += np.where(live, rate, 0.0) * loss[target.id]
        return total

    def features(self, obs: Observation, rows: np.ndarray) -> Features:
        """The inputs of every option in ``rows``; computed once per situation and kept
        (a situation is what the actor observes, with the length of the turn)."""
        t = self.table
        n = rows.size
        legal = obs.legal[rows]
        days = float(np.asarray(obs.builtins()["turn_days"]))
        names, matrix = obs.matrix
        seen = np.nan_to_num(matrix[:, rows], nan=-1e300).T
        keys = [row.tobytes() + legal[i].tobytes() + np.float64(days).tobytes()
                for i, row in enumerate(seen)]
        if len(self.cache) > 200_000:
            self.cache.clear()
        missing = [i for i, key in enumerate(keys) if key not in self.cache]
        if missing:
            fresh = self._compute(obs, rows[missing], legal[missing])
            for m, i in enumerate(missing):
                self.cache[keys[i]] = (fresh[0][m], fresh[1][m])
        x = np.stack([self.cache[key][0] for key in keys])
        offset = np.broadcast_to(self.waiting * math.log(max(days, 1e-9)), (n, t.k))
        today = float(np.asarray(obs.builtins()["day"]))
        near = np.full(t.k, np.inf)
        for j, documented in enumerate(self.record_days):
            if documented.size:
                near[j] = float(np.min(np.abs(documented - today)))
        return Features(x, np.array(offset), np.broadcast_to(near, (n, t.k)).copy(), legal)

    def _compute(self, obs: Observation, rows: np.ndarray,
                 legal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        t = self.table
        n = rows.size
        env = self.env(obs, rows)
        pay = self._payoffs(env, n)
        sq = pay[self.status_quo.id]
        spread = np.maximum(np.ptp(np.stack(list(pay.values())), axis=0), 1e-9)
        loss = {o.id: np.maximum(sq - pay[o.id], 0.0) / spread for o, _ in self.outcomes}
        x = np.zeros((n, t.k, len(FEATURES)))
        for rule in t.rules:
            j = rule.local
            if j == t.default or not legal[:, j].any():
                continue
            outs, dangers = self.touches[j]
            if not outs and not dangers:
                continue
            after = _after(env, rule.effects, self.variables, n).env
            if outs:
                x[:, j, 0] = (self._value(after, n, spread, outs)
                              - self._value(env, n, spread, outs))
            if dangers:
                x[:, j, 1] = (self._risk(after, n, loss, dangers)
                              - self._risk(env, n, loss, dangers))
        commitment = 0.0
        if self.commitment is not None:
            commitment = np.nan_to_num(np.asarray(env[self.commitment], dtype=float)) / 10.0
        x[:, :, 2] = self.concede[None, :] * np.broadcast_to(commitment, (n,))[:, None]
        x[:, :, 3] = self.waiting[None, :]
        x[:, :, 4:7] = self.static[None, :, :]
        return x, legal


def names_in_payoffs(outcome: Any, actor: str) -> set[str]:
    node = outcome.payoffs.get(actor)
    return set() if node is None else names_in(node)


def signs() -> np.ndarray:
    """How each feature enters the utility: costs (danger, audience) are subtracted."""
    return np.array([1.0, -1.0, -1.0, 1.0, 1.0, 1.0, 1.0])


def probabilities(f: Features, beta: np.ndarray, record: float = 0.0,
                  record_days: float = 2.0) -> np.ndarray:
    """Logit choice probabilities over the legal options, (rows, options)."""
    u = f.x @ (beta * signs()) + f.offset
    if record:
        u = u + record * np.exp(-f.near / max(record_days, 1e-9))
    u = np.where(f.legal, u, -np.inf)
    top = u.max(axis=1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    e = np.exp(u - top)
    total = e.sum(axis=1, keepdims=True)
    p = np.divide(e, total, out=np.zeros_like(e), where=total > 0)
    return p


def situations(obs: Observation) -> tuple[np.ndarray, np.ndarray]:
    """The distinct situations of the running rows as the actor sees them: one
    representative row each and, per row, the index of its situation (-1 if ended)."""
    _, matrix = obs.matrix
    active = np.flatnonzero(obs.active)
    index = np.full(obs.n, -1, dtype=np.int64)
    if active.size == 0:
        return np.zeros(0, dtype=np.int64), index
    seen = np.nan_to_num(matrix[:, active], nan=-1e300)
    _, first, inverse = np.unique(seen.T, axis=0, return_index=True, return_inverse=True)
    index[active] = inverse.reshape(-1)
    return active[first], index


class LeaderAgent:
    """A leader chosen by the scenario's one choice model (see the module's docstring),
    with the scenario's fitted coefficients.

    Options override coefficients by feature name (``--agent usa=leader:escalation=2``)
    or start from a preset doctrine (``leader:preset=hawk``): a hawk weighs escalation up
    and concessions down (Kahn's ladder read as compellence); a dove the reverse
    (Osgood's graduated reciprocation). ``record=`` sets the pull of the record (0 for
    the pure model, the default; the historical agent uses the scenario's).
    """

    name: ClassVar[str] = "leader"
    stochastic: ClassVar[bool] = True
    lumpable: ClassVar[bool] = True  # draws only through policy(): the runner may lump
    needs_model_server: ClassVar[bool] = False

    def __init__(self, scenario: Scenario, actor: str, record: float | None = None,
                 preset: str | None = None, **options: Any) -> None:
        if actor not in scenario.players or scenario.role(actor) != "player":
            raise AgentSpecError(f"'{actor}' is not a player of {scenario.id}")
        self.actor = actor
        self.model = LeaderModel(scenario, actor)
        coef = coefficients(scenario, actor)
        if preset is not None:
            if preset not in PRESETS:
                raise AgentSpecError(f"leader: no preset '{preset}'; the presets are: "
                                     f"{', '.join(PRESETS)}")
            coef.update(PRESETS[preset])
        for key, value in options.items():
            if key not in coef:
                raise AgentSpecError(f"agent 'leader' has no option '{key}'; its options are: "
                                     f"preset, {', '.join(coef)}")
            try:
                coef[key] = float(value)
            except (TypeError, ValueError):
                raise AgentSpecError(f"leader: option '{key}' takes a number, "
                                     f"not {value!r}") from None
        self.coef = coef
        self.beta = np.array([coef[f] for f in FEATURES])
        self.record = 0.0 if record is None else float(record)

    def policy(self, observation: Observation) -> np.ndarray:
        """(N, k) choice probabilities; rows of ended crises are all zero."""
        reps, index = situations(observation)
        k = len(observation.actions)
        out = np.zeros((observation.n, k))
        if reps.size == 0:
            return out
        f = self.model.features(observation, reps)
        p = probabilities(f, self.beta, self.record, self.coef["record_days"])
        live = index >= 0
        out[live] = p[index[live]]
        return out

    def act(self, observation: Observation) -> np.ndarray:
        return pick_option(self.policy(observation), observation.uniform())
