"""The leaders' choice model: one quantal-response model for every player of every scenario.

A leader values each legal option by what the scenario itself says (its payoffs, its
hazards, its escalation scale, the public commitments it records) and chooses among them
with logit probabilities (McFadden's conditional logit; McKelvey & Palfrey's quantal
response, 1995). The utility of option ``j`` to actor ``i`` is

    U_j =   payoff     * gain_j          (progress towards outcomes, valued by i's payoffs)
          - danger     * risk_j          (the loss from war it adds over the horizon)
          - audience   * concede_j * c_i (backing down after public commitments c_i)
          + act_i      * [j not waiting] + log(turn days) * [j not waiting]
          + escalation_i * rung_j / top + force_i * [rung_j >= force_from]
          + concession_i * concede_j
          + record     * pull_j          (only off the record, for the historical agent)

The coefficients are scenario parameters (``leader_payoff``, ``leader_usa_act``...), fitted
to the documented choices by ``crisislab fit`` (maximum likelihood) and varied like any
other parameter. ``log(turn days)`` makes ``act`` a propensity per day, so that a week of
turns and a half-day of turns mean the same thing. ``pull_j`` is the pull of the record
on a crisis that has left it: ``exp(-gap/record_days)`` for the next use of an option the
real leader took, where the gap is how many days this crisis still falls short of the time
the leader let pass after the option opened in the record (0 once due: an overdue use stays
due until made); waiting is pulled by what the other options leave, so fully on days on
which nothing documented is due. A documented concession's pull also falls by a factor e
per ``leader_record_terms`` by which its terms fall short of what they were worth when
the record has it made (a climb-down without the reply's terms is pulled less).

Everything is computed once per distinct situation the actor observes (crises that look
the same to it share one computation), from its observation only: a few situations on
plain numbers, many on arrays, with the same operations in the same order (so the same
bits), each outcome and danger only for the options whose effects can move it.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from crisislab.agents.doctrines import ActionTable, _after, _clauses, _progress
from crisislab.agents.registry import AgentSpecError
from crisislab.engine.engine import (
    assigned,
    bound,
    bound_scalar,
    pick_option,
)
from crisislab.engine.grouping import first_and_inverse
from crisislab.engine.observation import Observation
from crisislab.scenario.expr import Value, _maximum, evaluate, names_in, scalar_function
from crisislab.scenario.model import Scenario, VariableRule

SHARED = ("payoff", "danger", "audience")
PER_ACTOR = ("act", "escalation", "force", "concession")
FEATURES = (*SHARED, *PER_ACTOR)
# up to this many situations, features are computed one at a time on plain numbers;
# above, on arrays (both give the same bits: see LeaderModel.features)
PLAIN_ROWS = 8
# used where a scenario declares no parameter of that name (see docs/model.md)
DEFAULTS: dict[str, float] = {
    "payoff": 2.0,
    "danger": 2.0,
    "audience": 0.5,
    "act": -3.0,
    "escalation": -1.0,
    "force": -3.0,
    "concession": 0.0,
    "record": 4.0,
    "record_days": 2.0,
    "contact_weight": 0.05,
    "horizon_days": 7.0,
    "record_terms": 0.1,
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
    for f in (*FEATURES, "record", "record_days", "record_terms", "contact_weight", "horizon_days"):
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
    wait: int = 0  # the option that is waiting: its pull is what the others' leave
    # (rows, options): by how much the terms of a concession fall short of what they
    # were worth when the record has it made, in shares of the payoff spread (0 if
    # not short, or not a documented concession); see :meth:`LeaderModel.shortfall`
    short: np.ndarray | None = None


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
        self.outcome_by_id = {o.id: o for o in scenario.outcomes}
        self.status_quo = next((o for o in scenario.outcomes if o.default), scenario.outcomes[-1])
        # the chance events that can start or widen a war, with the outcome each leads to
        wars = sorted(
            (o for o in scenario.outcomes if o.escalation > 0), key=lambda o: o.escalation
        )
        # a contact below the use of force (an incident) counts for the chance that it
        # ends in fighting, ``leader_contact_weight``
        contact = float(
            scenario.parameters.get(
                parameter_name("contact_weight", actor), DEFAULTS["contact_weight"]
            )
        )
        self.dangers = []
        self.danger_weight = []
        for e in scenario.events:
            if e.kind != "chance" or not e.escalation or e.hazard is None:
                continue
            target = next((o for o in wars if o.escalation >= e.escalation), None)
            if target is not None:
                self.dangers.append((e, target))
                self.danger_weight.append(1.0 if e.escalation >= self.force_from else contact)
        # per option, the outcomes and dangers its effects can move (the rest cancel out)
        self.touches: list[tuple[list[int], list[int]]] = []
        for rule in t.rules:
            targets = {e.target for e in rule.effects}
            outs = [
                i
                for i, (o, clauses) in enumerate(self.outcomes)
                if clauses
                and o.id != self.status_quo.id
                and targets
                & (set().union(*(names_in(c) for c in clauses)) | names_in_payoffs(o, actor))
            ]
            dangers = [
                i
                for i, (e, _) in enumerate(self.dangers)
                if e.hazard is not None and targets & (names_in(e.when) | names_in(e.hazard))
            ]
            self.touches.append((outs, dangers))
        # the variables the features read: the rest of what the actor sees does not
        # change its choice, so situations that differ only there are one situation
        read: set[str] = set()
        for o, clauses in self.outcomes:
            for c in clauses:
                read |= names_in(c)
            read |= names_in_payoffs(o, actor)
        for e, _ in self.dangers:
            assert e.hazard is not None
            read |= names_in(e.when) | names_in(e.hazard)
        if self.commitment is not None:
            read.add(self.commitment)
        grown = True
        while grown:
            grown = False
            for rule in t.rules:
                for eff in rule.effects:
                    if eff.target in read:
                        extra = names_in(eff.value) - read
                        if eff.op != "=":
                            extra |= {eff.target} - read
                        if extra:
                            read |= extra
                            grown = True
        self.reads = read
        self._plain_setup()
        self.horizon = float(
            scenario.parameters.get(parameter_name("horizon_days", actor), DEFAULTS["horizon_days"])
        )
        self.waiting = np.ones(t.k)
        self.waiting[t.default] = 0.0
        self.static = np.stack(
            [t.level / top, (t.level >= self.force_from).astype(float), self.concede], axis=1
        )
        # the days on which the record has this actor take each option
        clock = scenario.clock.turns
        self.record_days: list[np.ndarray] = [np.zeros(0) for _ in range(t.k)]
        for step in scenario.track:
            if step.actor == actor and step.action is not None:
                j = t.ids.index(step.action)
                self.record_days[j] = np.append(self.record_days[j], clock[step.turn].day)
        # and how long after the option first became available, along the record
        # (set by anchor(); until then the pull is to the documented dates themselves)
        self.record_lags: list[np.ndarray] | None = None
        self.record_worth: list[np.ndarray] | None = None

    def anchor(self, opened: np.ndarray, worth: Mapping[str, np.ndarray] | None = None) -> None:
        """Measure the record's pull from the day each option opened: ``opened`` holds,
        per documented action of the scenario, the day it first became available along
        the replayed record (``BatchState.opened`` at the record's end). A crisis in which
        the missiles are found a week early then has the leader convene its advisers a
        week early, as the real one did two days after the photographs, rather than wait
        for the calendar date.

        ``worth`` (per documented concession's id, per documented use in the track's
        order) holds what its terms were worth to the leader when the record has it made
        (``RecordReplay.worth``, read on the scenario's real history even under a
        what-if): the pull of such a use then weakens as far as the terms on offer fall
        short of those (see :meth:`shortfall`)."""
        lags: list[np.ndarray] = [np.zeros(0) for _ in range(self.table.k)]
        kept: list[np.ndarray] = [np.zeros(0) for _ in range(self.table.k)]
        for i, rule in enumerate(self.scenario.documented_actions):
            if rule.actor != self.actor:
                continue
            days = self.record_days[rule.local]
            order = np.argsort(days, kind="stable")
            lags[rule.local] = (days - float(opened[i]) if opened[i] >= 0 else days)[order]
            on_record = None if worth is None else worth.get(rule.id)
            if on_record is not None and len(on_record) == days.size:
                kept[rule.local] = np.asarray(on_record, dtype=float)[order]
        self.record_lags = lags
        self.record_worth = kept if worth is not None else None
        # the same, as plain numbers, for features_plain: the options that have any
        self._plain_lags = [(j, d.tolist()) for j, d in enumerate(lags) if d.size]
        self._plain_worth = (
            [(j, d.tolist()) for j, d in enumerate(kept) if d.size and self.concede[j]]
            if worth is not None
            else []
        )

    # ---- the environment the actor can evaluate -------------------------------------------

    def env(
        self,
        obs: Observation,
        rows: np.ndarray,
        seen: tuple[tuple[str, ...], np.ndarray] | None = None,
    ) -> dict[str, Value]:
        """What the actor observes in ``rows``, as expressions read it (NaN where hidden)."""
        env: dict[str, Value] = dict(self.parameters)
        hidden = np.full(rows.size, np.nan)
        for v in self.variables:
            env[v] = hidden
        names, matrix = obs.matrix if seen is None else seen
        for i, name in enumerate(names):
            env[name] = matrix[i, rows]
        for b, value in obs.builtins().items():
            env[b] = value[rows] if isinstance(value, np.ndarray) and value.ndim else value
        return env

    def _payoffs(self, env: Mapping[str, Value], n: int) -> dict[str, np.ndarray]:
        """Every outcome's payoff to the actor in every row (0 where NaN), by id."""
        return {o.id: self._array_pay(i, env, n) for i, (o, _) in enumerate(self.outcomes)}

    def expected_loss(
        self,
        env: Mapping[str, Value],
        n: int,
        progress: Mapping[str, np.ndarray],
        loss: Mapping[str, np.ndarray],
    ) -> np.ndarray:
        """The loss from war the actor can expect over its horizon from this state, as a
        share of its payoff spread: the war already under way (the worst war outcome
        whose state holds), plus, for each chance event that starts or widens a war,
        the chance it fires within the horizon times what it would add. Escalating into
        a war therefore never looks safer than the danger of drifting into it."""
        ids = [o.id for o, _ in self.outcomes]
        days = float(np.asarray(env["turn_days"]))
        return self._risk(
            {i: progress[ids[i]].reshape(n) for i in self._plain_wars if ids[i] in progress},
            [loss[k] for k in ids],
            [self._array_chance(d, env, n, days) for d in range(len(self._plain_dangers))],
            n,
        )

    def _risk(
        self,
        prog: Mapping[int, np.ndarray],
        loss: Sequence[np.ndarray],
        dangers: Sequence[tuple[np.ndarray, np.ndarray]],
        n: int,
    ) -> np.ndarray:
        """:meth:`expected_loss` from each war outcome's progress and each danger's
        (live, chance), by index, in every row."""
        realized = np.zeros(n)
        for i in self._plain_wars:
            if i in prog:
                realized = np.maximum(realized, prog[i] * loss[i])
        total = realized.copy()
        for (live, chance), (_, target, _) in zip(dangers, self._plain_dangers, strict=True):
            total += np.where(live, chance, 0.0) * np.maximum(loss[target] - realized, 0.0)
        return total

    def features(self, obs: Observation, rows: np.ndarray) -> Features:
        """The inputs of every option in ``rows`` (one row per situation: see
        :func:`situations`). A few rows are computed one at a time on plain numbers
        (:meth:`features_plain`), more on arrays (:meth:`features_arrays`): the same
        operations in the same order, so the same bits (a property test compares them)."""
        if rows.size <= PLAIN_ROWS:
            return self.features_plain(obs, rows)
        return self.features_arrays(obs, rows)

    def features_arrays(self, obs: Observation, rows: np.ndarray) -> Features:
        """:meth:`features` on numpy arrays, every row at once."""
        t = self.table
        n = rows.size
        legal = obs.legal[rows]
        builtins = obs.builtins()
        days = float(np.asarray(builtins["turn_days"]))
        x, _ = self._compute(obs, rows, legal, obs.matrix)
        offset = np.broadcast_to(self.waiting * math.log(max(days, 1e-9)), (n, t.k))
        return Features(
            x,
            np.array(offset),
            self.nearness(obs, rows),
            legal,
            t.default,
            self.shortfall(obs, rows, x[:, :, 0]),
        )

    # ---- one situation on plain numbers ---------------------------------------------------

    def _plain_setup(self) -> None:
        """What :meth:`features_plain` reads, worked out once: per outcome its payoff
        and the clauses of its progress, per option the effects that write a name the
        features read and which outcomes and dangers those can move."""
        t = self.table
        actor = self.actor
        base: dict[str, Value] = dict(self.parameters)
        for v in self.variables:
            base[v] = math.nan
        self._plain_base = base
        self._plain_pay = [o.payoffs.get(actor) for o, _ in self.outcomes]
        self._plain_sq = next(
            i for i, (o, _) in enumerate(self.outcomes) if o.id == self.status_quo.id
        )
        # the outcomes with a progress (clauses, not the status quo), in file order
        self._plain_prog = [
            i
            for i, (o, clauses) in enumerate(self.outcomes)
            if clauses and o.id != self.status_quo.id
        ]
        self._plain_wars = [i for i in self._plain_prog if self.outcomes[i][0].escalation > 0]
        self._plain_peaceful = [
            i
            for i in self._plain_prog
            if self.outcomes[i][0].escalation == 0 and not self.outcomes[i][0].default
        ]
        outcome_index = {o.id: i for i, (o, _) in enumerate(self.outcomes)}
        self._plain_dangers = [
            (e, outcome_index[target.id], self.danger_weight[i])
            for i, (e, target) in enumerate(self.dangers)
        ]
        # per option: its effects on what the features read (an effect on any other
        # name changes nothing they read, not even through a later effect, since the
        # names those read are in ``reads`` too), and what they can move
        self._plain_effects: list[tuple[Any, ...]] = []
        self._plain_moves: list[tuple[frozenset[int], frozenset[int], frozenset[int]]] = []
        for rule in t.rules:
            self._plain_effects.append(
                tuple(
                    (eff, self.variables[eff.target])
                    for eff in rule.effects
                    if eff.target in self.reads
                )
            )
            targets = {e.target for e in rule.effects}
            pays = frozenset(
                i
                for i, node in enumerate(self._plain_pay)
                if node is not None and targets & names_in(node)
            )
            progs = frozenset(
                i
                for i in self._plain_prog
                if targets & set().union(*(names_in(c) for c in self.outcomes[i][1]))
            )
            dangers = frozenset(
                i
                for i, (e, _, _) in enumerate(self._plain_dangers)
                if e.hazard is not None and targets & (names_in(e.when) | names_in(e.hazard))
            )
            self._plain_moves.append((pays, progs, dangers))
        self._plain_offset: dict[float, np.ndarray] = {}
        self._chance_kept: dict[tuple[int, float, float], float] = {}
        self._plain_calendar: dict[tuple[float, float], np.ndarray] = {}

    def _plain_env(self, obs: Observation, row: int) -> dict[str, Value]:
        """:meth:`env` of one row, as plain numbers (floats and bools)."""
        env = dict(self._plain_base)
        names, matrix = obs.matrix
        env.update(zip(names, matrix[:, row].tolist(), strict=True))
        for b, value in obs.builtins().items():
            env[b] = value.item(row) if isinstance(value, np.ndarray) and value.ndim else value
        return env

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_plain_fns", None)  # closures: compiled again where unpickled
        state["_chance_kept"] = {}
        return state

    def _functions(self) -> tuple[Any, ...]:
        """The compiled expressions :meth:`_plain_x` evaluates (``scalar_function``),
        fetched once per process: per outcome its payoff's (None if it has none), per
        outcome with a progress its clauses', per danger its condition's and hazard's,
        and per option its effects on what the features read, as (value, op, target,
        variable)."""
        fns = self.__dict__.get("_plain_fns")
        if fns is None:
            pays = [None if node is None else scalar_function(node) for node in self._plain_pay]
            clauses = {
                i: [scalar_function(c) for c in self.outcomes[i][1]] for i in self._plain_prog
            }
            dangers = []
            for e, _, _ in self._plain_dangers:
                assert e.hazard is not None
                dangers.append((scalar_function(e.when), scalar_function(e.hazard)))
            effects = [
                [(scalar_function(eff.value), eff.op, eff.target, var) for eff, var in option]
                for option in self._plain_effects
            ]
            fns = (pays, clauses, dangers, effects)
            self._plain_fns = fns
        return fns  # type: ignore[no-any-return]

    @staticmethod
    def _plain_after(env: dict[str, Value], effects: Sequence[tuple[Any, ...]]) -> list[Any]:
        """``_after`` of an option on plain numbers (the names the features read),
        written into ``env`` itself; returns what it replaced, for :meth:`_restore`."""
        replaced: list[tuple[str, Value]] = []
        for fn, op, target, var in effects:
            value = float(fn(env))  # assigned_scalar's steps
            old = env[target]
            current = float(old)  # type: ignore[arg-type]
            if op != "=":
                value = current + value if op == "+=" else current - value
            replaced.append((target, old))
            env[target] = (
                bound_scalar(var, value) if current == current or value == value else math.nan
            )
        return replaced

    @staticmethod
    def _restore(env: dict[str, Value], replaced: list[Any]) -> None:
        for target, old in reversed(replaced):
            env[target] = old

    @staticmethod
    def _plain_pay_one(fn: Any, env: Mapping[str, Value]) -> float:
        value = 0.0 if fn is None else float(fn(env))
        return 0.0 if value != value else value

    @staticmethod
    def _plain_progress(clauses: Sequence[Any], env: Mapping[str, Value]) -> float:
        total = 0.0
        for c in clauses:
            total += 1.0 if c(env) else 0.0
        return total / len(clauses)

    def _plain_chance(
        self, d: int, fns: tuple[Any, Any], env: Mapping[str, Value], days: float
    ) -> tuple[bool, float]:
        """One danger in one state: whether it is live, and the chance it fires within
        the horizon, weighted (``expected_loss``'s terms, on plain numbers; numpy's own
        log1p and expm1, whose last bit may differ from the math module's). The chance
        of a hazard other than zero is kept by (danger, hazard, turn length): the same
        numbers give the same chance."""
        when, hazard = fns
        live = float(when(env))
        h = float(hazard(env))
        if h != h:
            h = 0.0
        key = (d, h, days)
        kept = self._chance_kept
        chance = kept.get(key) if h != 0 else None
        if chance is None:
            e, _, weight = self._plain_dangers[d]
            if e.per_day:
                rate = _maximum(h, 0.0)
            else:
                clipped = 0.0 if h < 0 else (1 - 1e-12 if h > 1 - 1e-12 else h)
                rate = float(-np.log1p(-clipped)) / max(days, 1e-9)
            chance = float(-np.expm1(-rate * self.horizon)) * weight
            if h != 0:
                if len(kept) >= 100_000:
                    kept.clear()
                kept[key] = chance
        return (live == live and live > 0), chance

    def _plain_x(self, env: dict[str, Value], legal: np.ndarray) -> np.ndarray:
        """(k, features) of one situation: :meth:`_compute` on plain numbers, the same
        operations in the same order; blocks of options that cannot move an outcome or
        a danger reuse the state before's value of it (the same inputs). Each option's
        effects are written into ``env`` and taken back after."""
        t = self.table
        pay_fns, clause_fns, danger_fns, effect_fns = self._functions()
        pay_one, progress, chance_of = self._plain_pay_one, self._plain_progress, self._plain_chance
        n_out = len(self.outcomes)
        days = float(env["turn_days"])  # type: ignore[arg-type]
        pay0 = [pay_one(f, env) for f in pay_fns]
        top, low = max(pay0), min(pay0)
        spread = _maximum(top - low, 1e-9)
        sq0 = pay0[self._plain_sq]
        loss = [_maximum(sq0 - p, 0.0) / spread for p in pay0]
        prog0 = {i: progress(clause_fns[i], env) for i in self._plain_prog}
        d0 = [chance_of(d, fns, env, days) for d, fns in enumerate(danger_fns)]

        def value_risk(
            pay: list[float], prog: Mapping[int, float], dangers: list[tuple[bool, float]]
        ) -> tuple[float, float]:
            sq = pay[self._plain_sq]
            value = 0.0
            for i in self._plain_prog:
                value = value + prog[i] * (pay[i] - sq)
            realized = 0.0
            for i in self._plain_wars:
                realized = _maximum(realized, prog[i] * loss[i])
            total = realized
            for (live, chance), (_, target, _) in zip(dangers, self._plain_dangers, strict=True):
                total += (chance if live else 0.0) * _maximum(loss[target] - realized, 0.0)
            return value / spread, total

        value0, risk0 = value_risk(pay0, prog0, d0)
        carry_on = sq0 - risk0 * spread
        x = np.zeros((t.k, len(FEATURES)))
        for rule in t.rules:
            j = rule.local
            if j == t.default or not legal[j]:
                continue
            if not (self.touches[j][0] or self.touches[j][1]):
                continue
            replaced = self._plain_after(env, effect_fns[j])
            pays, progs, dangers = self._plain_moves[j]
            pay = [pay_one(pay_fns[i], env) if i in pays else pay0[i] for i in range(n_out)]
            prog = {
                i: progress(clause_fns[i], env) if i in progs else prog0[i]
                for i in self._plain_prog
            }
            dd = [
                chance_of(d, danger_fns[d], env, days) if d in dangers else d0[d]
                for d in range(len(d0))
            ]
            self._restore(env, replaced)
            value, risk = value_risk(pay, prog, dd)
            x[j, 0] = value - value0
            if self.concede[j] and self._plain_peaceful:
                best, most = -1, -math.inf
                for i in self._plain_peaceful:
                    moved = prog[i] - prog0[i]
                    if moved > most:
                        best, most = i, moved
                if most > 1e-12:
                    x[j, 0] = (pay[best] - carry_on) / spread
            x[j, 1] = risk - risk0
        commitment = 0.0
        if self.commitment is not None:
            c = float(env[self.commitment])  # type: ignore[arg-type]
            if c != c:  # numpy's nan_to_num, on a plain number
                c = 0.0
            elif c in (math.inf, -math.inf):
                c = math.copysign(sys.float_info.max, c)
            commitment = c / 10.0
        x[:, 2] = self.concede * commitment
        x[:, 3] = self.waiting
        x[:, 4:7] = self.static
        return x

    def features_plain(self, obs: Observation, rows: np.ndarray) -> Features:
        """:meth:`features`, each row on plain numbers."""
        t = self.table
        n = rows.size
        legal = obs.legal[rows]
        builtins = obs.builtins()
        days = float(np.asarray(builtins["turn_days"]))
        x = np.zeros((n, t.k, len(FEATURES)))
        for r, row in enumerate(rows.tolist()):
            x[r] = self._plain_x(self._plain_env(obs, row), legal[r])
        offset = self._plain_offset.get(days)
        if offset is None:
            offset = self.waiting * math.log(max(days, 1e-9))
            offset.flags.writeable = False
            self._plain_offset[days] = offset
        today = float(np.asarray(builtins["day"]))
        if self.record_lags is None:  # the calendar's nearness: the same in every row
            key = (today, days)
            calendar = self._plain_calendar.get(key)
            if calendar is None:
                if len(self._plain_calendar) > 10_000:
                    self._plain_calendar.clear()
                calendar = self.nearness(obs, rows[:1])[0]
                calendar.flags.writeable = False
                self._plain_calendar[key] = calendar
            near = np.array(np.broadcast_to(calendar, (n, t.k)))
            short = None
        else:
            opened = obs.opened[rows].tolist()
            taken = obs.taken[rows].tolist()
            near = np.array(
                [self._plain_near(o, c, today, days) for o, c in zip(opened, taken, strict=True)]
            )
            short = None
            if self.record_worth is not None:
                short = np.array(
                    [
                        self._plain_short(c, w)
                        for c, w in zip(taken, x[:, :, 0].tolist(), strict=True)
                    ]
                )
        return Features(
            x, np.array(np.broadcast_to(offset, (n, t.k))), near, legal, t.default, short
        )

    def _plain_near(
        self, opened: list[float], taken: list[float], today: float, span: float
    ) -> list[float]:
        """One row of :meth:`nearness` (anchored), on plain numbers."""
        near = [math.inf] * self.table.k
        for j, lags in self._plain_lags:
            count = int(taken[j])
            due = lags[min(count, len(lags) - 1)]
            gap = _maximum(due - ((today - opened[j]) + span), 0.0)
            if gap == gap and count < len(lags):
                near[j] = gap
        return near

    def _plain_short(self, taken: list[float], worth: list[float]) -> list[float]:
        """One row of :meth:`shortfall`, on plain numbers."""
        short = [0.0] * self.table.k
        for j, documented in self._plain_worth:
            on_record = documented[min(int(taken[j]), len(documented) - 1)]
            if on_record != on_record:
                continue
            if on_record in (math.inf, -math.inf):  # as numpy's nan_to_num
                on_record = math.copysign(sys.float_info.max, on_record)
            short[j] = _maximum(on_record - worth[j], 0.0)
        return short

    def shortfall(self, obs: Observation, rows: np.ndarray, worth: np.ndarray) -> np.ndarray | None:
        """(rows, options): how far the terms of each documented concession fall short,
        in this crisis, of what they were worth to the leader at the record's next use of
        it (``worth`` is the model's deal value of every option, feature ``payoff``).
        Khrushchev climbed down on 28 October on terms Kennedy's reply had just given
        him; where no such terms are on offer, the record's example no longer pulls him
        to climb down, and only the model's own judgement of the bare deal remains.
        None before the model is anchored with the record's terms."""
        if self.record_worth is None:
            return None
        taken = obs.taken[rows].astype(np.int64)
        short = np.zeros((rows.size, self.table.k))
        for j, documented in enumerate(self.record_worth):
            if not documented.size or not self.concede[j]:
                continue
            nxt = np.minimum(taken[:, j], documented.size - 1)
            on_record = documented[nxt]
            short[:, j] = np.where(
                np.isnan(on_record), 0.0, np.maximum(np.nan_to_num(on_record) - worth[:, j], 0.0)
            )
        return short

    def nearness(self, obs: Observation, rows: np.ndarray) -> np.ndarray:
        """(rows, options): how many days the turn falls short of the leader's next
        documented use of each option: counted from the day the option opened in this
        crisis, against how long after it opened the leader used it in the record (see
        :meth:`anchor`; 0 once due), or by the calendar before the model is anchored;
        inf for options the record never has the leader take, or already taken as often
        as the record has. Waiting gets no distance of its own: its pull is what the
        other options leave (see :func:`probabilities`)."""
        t = self.table
        builtins = obs.builtins()
        today = float(np.asarray(builtins["day"]))
        span = float(np.asarray(builtins["turn_days"]))  # the turn covers [today, +span)
        near = np.full((rows.size, t.k), np.inf)
        if self.record_lags is None:
            for j, documented in enumerate(self.record_days):
                if documented.size:
                    # days from the turn's span to the nearest documented date, 0 within
                    gap = np.maximum(
                        np.maximum(documented - (today + span), today - documented), 0.0
                    ).min()
                    near[:, j] = gap
            return near
        opened = obs.opened[rows]
        taken = obs.taken[rows].astype(np.int64)
        for j, lags in enumerate(self.record_lags):
            if not lags.size:
                continue
            # the next documented use not yet made in this crisis, and how long after
            # the option opened the leader made it; an overdue use stays due
            nxt = np.minimum(taken[:, j], lags.size - 1)
            due = lags[nxt]  # sorted by anchor()
            start = today - opened[:, j]  # days since it opened; NaN if not yet
            gap = np.maximum(due - (start + span), 0.0)
            done = taken[:, j] >= lags.size  # as often as the record has it: no pull
            near[:, j] = np.where(np.isnan(gap) | done, np.inf, gap)
        return near

    def _compute(
        self,
        obs: Observation,
        rows: np.ndarray,
        legal: np.ndarray,
        seen: tuple[tuple[str, ...], np.ndarray],
    ) -> tuple[np.ndarray, np.ndarray]:
        """The features of every option in ``rows``, on arrays over the rows. Each
        outcome and danger is evaluated in the state before any option and, for each
        option, only where its effects can move it (an option leaves what it does not
        touch as it was, so its value there is the state before's): the operations of
        :meth:`_plain_x`, each over all rows at once."""
        t = self.table
        n = rows.size
        env = self.env(obs, rows, seen)
        n_out = len(self.outcomes)
        days = float(np.asarray(env["turn_days"]))
        pay0 = [self._array_pay(i, env, n) for i in range(n_out)]
        spread = np.maximum(np.ptp(np.stack(pay0), axis=0), 1e-9)
        sq0 = pay0[self._plain_sq]
        loss = [np.maximum(sq0 - p, 0.0) / spread for p in pay0]
        prog0 = {i: _progress(self.outcomes[i][1], env, n) for i in self._plain_prog}
        d0 = [self._array_chance(d, env, n, days) for d in range(len(self._plain_dangers))]

        def value_of(pay: list[np.ndarray], prog: Mapping[int, np.ndarray]) -> np.ndarray:
            sq = pay[self._plain_sq]
            value = np.zeros(n)
            for i in self._plain_prog:
                value = value + prog[i] * (pay[i] - sq)
            return value / spread

        value0, risk0 = value_of(pay0, prog0), self._risk(prog0, loss, d0, n)
        carry_on = sq0 - risk0 * spread
        wars = set(self._plain_wars)
        x = np.zeros((n, t.k, len(FEATURES)))
        for rule in t.rules:
            j = rule.local
            if j == t.default or not legal[:, j].any():
                continue
            if not (self.touches[j][0] or self.touches[j][1]):
                continue
            pays, progs, dangers = self._plain_moves[j]
            after = self._array_after(env, j, n) if pays or progs or dangers else env
            pay = [self._array_pay(i, after, n) if i in pays else pay0[i] for i in range(n_out)]
            prog = {
                i: _progress(self.outcomes[i][1], after, n) if i in progs else prog0[i]
                for i in self._plain_prog
            }
            dd = [
                self._array_chance(d, after, n, days) if d in dangers else d0[d]
                for d in range(len(d0))
            ]
            # the same inputs give the same value: recomputed only where one moved
            value = value_of(pay, prog) if pays or progs else value0
            risk = self._risk(prog, loss, dd, n) if dangers or (progs & wars) else risk0
            x[:, j, 0] = value - value0
            if self.concede[j] and self._plain_peaceful:
                moved = np.stack([prog[i] - prog0[i] for i in self._plain_peaceful])
                best = np.argmax(moved, axis=0)
                deal = np.stack([pay[i] for i in self._plain_peaceful])[best, np.arange(n)]
                closes = moved.max(axis=0) > 1e-12
                x[:, j, 0] = np.where(closes, (deal - carry_on) / spread, x[:, j, 0])
            x[:, j, 1] = risk - risk0
        commitment = 0.0
        if self.commitment is not None:
            commitment = np.nan_to_num(np.asarray(env[self.commitment], dtype=float)) / 10.0
        x[:, :, 2] = self.concede[None, :] * np.broadcast_to(commitment, (n,))[:, None]
        x[:, :, 3] = self.waiting[None, :]
        x[:, :, 4:7] = self.static[None, :, :]
        return x, legal

    def _array_pay(self, i: int, env: Mapping[str, Value], n: int) -> np.ndarray:
        """Outcome ``i``'s payoff to the actor in every row (0 where NaN)."""
        node = self._plain_pay[i]
        value = np.asarray(0.0 if node is None else evaluate(node, env), float)
        if value.shape != (n,):
            value = np.broadcast_to(value, (n,))
        return np.where(np.isnan(value), 0.0, value)

    def _array_chance(
        self, d: int, env: Mapping[str, Value], n: int, days: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`_plain_chance` in every row."""
        e, _, weight = self._plain_dangers[d]
        assert e.hazard is not None
        with np.errstate(invalid="ignore"):
            live = np.broadcast_to(np.asarray(evaluate(e.when, env), dtype=float), (n,))
            h = np.broadcast_to(np.asarray(evaluate(e.hazard, env), dtype=float), (n,))
        live = np.where(np.isnan(live), 0.0, live) > 0
        h = np.where(np.isnan(h), 0.0, h)
        rate = (
            np.maximum(h, 0.0)
            if e.per_day
            else -np.log1p(-np.clip(h, 0, 1 - 1e-12)) / max(days, 1e-9)
        )
        return live, -np.expm1(-rate * self.horizon) * weight

    def _array_after(self, env: Mapping[str, Value], j: int, n: int) -> dict[str, Value]:
        """The observed state after option ``j`` (``doctrines._after``), on the names
        the features read."""
        out = dict(env)
        for eff, var in self._plain_effects[j]:
            with np.errstate(invalid="ignore"):
                value = np.broadcast_to(assigned(eff, out), (n,))
                current = np.asarray(out[eff.target], dtype=np.float64)
            known = ~np.isnan(np.broadcast_to(current, (n,))) | ~np.isnan(value)
            out[eff.target] = np.where(known, bound(var, value), np.nan)
        return out


@dataclass(frozen=True)
class DealVerdict:
    """A deal weighed by the actor asked to grant it: the payoff of the outcome the deal
    leads to, with its terms, against the expected payoff of carrying on without it
    (the status quo, less the danger of war over the leader's horizon), in the units of
    the scenario's payoffs."""

    accept: bool
    deal: float
    carry_on: float
    danger: float  # expected loss from war over the horizon, if the crisis carries on
    outcome: str  # the outcome the deal leads to ('' if it leads to none directly)

    def reasons(self) -> str:
        """Why, in words, for the letter that answers."""
        if self.accept:
            return "the terms are worth more to us than carrying on" + (
                " at this level of danger" if self.danger > 0.5 else ""
            )
        if self.danger < 0.5:
            return "the terms are worth less to us than holding on while the danger is low"
        return "the terms are worth less to us than carrying on, even at this danger"


def judge_deal(
    model: LeaderModel, obs: Observation, row: int, granted: list[Any], offered: list[Any]
) -> DealVerdict:
    """Whether ``model.actor`` grants the actions ``granted`` when the other side's
    actions ``offered`` come with them: the deal is accepted when the outcome it leads
    to is worth more than its expected continuation. The continuation is the status quo
    less the expected loss from war over the leader's horizon at today's danger, both read
    from the scenario's payoffs and hazards as the actor sees them."""
    rows = np.array([row])
    env = model.env(obs, rows)
    pay = model._payoffs(env, 1)
    sq = pay[model.status_quo.id]
    loss = {o.id: np.maximum(sq - pay[o.id], 0.0) for o, _ in model.outcomes}
    after = env
    for rule in [*offered, *granted]:
        after = _after(after, rule.effects, model.variables, 1).env
    progress = {
        o.id: _progress(c, env, 1) for o, c in model.outcomes if c and o.id != model.status_quo.id
    }
    danger = float(model.expected_loss(env, 1, progress, loss)[0])
    carry_on = float(sq[0]) - danger
    # the peaceful outcome the granted actions bring nearest
    best, gain = None, 0.0
    for o, clauses in model.outcomes:
        if not clauses or o.default or o.escalation > 0:
            continue
        moved = float((_progress(clauses, after, 1) - _progress(clauses, env, 1))[0])
        if moved > gain + 1e-12:
            best, gain = o, moved
    if best is None:
        return DealVerdict(False, float(sq[0]), carry_on, danger, "")
    deal = float(model._payoffs(after, 1)[best.id][0])
    return DealVerdict(deal > carry_on, deal, carry_on, danger, best.id)


def names_in_payoffs(outcome: Any, actor: str) -> set[str]:
    node = outcome.payoffs.get(actor)
    return set() if node is None else names_in(node)


def signs() -> np.ndarray:
    """How each feature enters the utility: costs (danger, audience) are subtracted."""
    return np.array([1.0, -1.0, -1.0, 1.0, 1.0, 1.0, 1.0])


def probabilities(
    f: Features,
    beta: np.ndarray,
    record: float = 0.0,
    record_days: float = 2.0,
    record_terms: float = 0.1,
) -> np.ndarray:
    """Logit choice probabilities over the legal options, (rows, options)."""
    w = beta * signs()
    if f.x.shape[0] == 1:
        one = _probabilities_one(f, w, record, record_days, record_terms)
        if one is not None:
            return one
    u = f.offset.copy()
    for i in range(w.size):  # elementwise, in a fixed order: the same bits in any batch
        u += f.x[:, :, i] * w[i]
    if record:
        u = u + record * _record_pull(f, record_days, record_terms)
    u = np.where(f.legal, u, -np.inf)
    top = u.max(axis=1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    e = np.exp(u - top)
    total = e.sum(axis=1, keepdims=True)
    p = np.divide(e, total, out=np.zeros_like(e), where=total > 0)
    return p


def _record_pull(f: Features, record_days: float, record_terms: float) -> np.ndarray:
    """The record's pull on each option, (rows, options): near where the record has the
    leader take it soon (and, for a concession, on terms like the record's). Waiting is
    pulled as strongly as no documented option is: fully on a day on which the record
    has the leader do nothing, not at all when one is due."""
    pull = np.exp(-f.near / max(record_days, 1e-9))
    if f.short is not None:
        pull = pull * np.exp(-f.short / max(record_terms, 1e-9))
    pull[:, f.wait] = 0.0
    pull[:, f.wait] = 1.0 - np.where(f.legal, pull, 0.0).max(axis=1)
    return pull


def _probabilities_one(
    f: Features, w: np.ndarray, record: float, record_days: float, record_terms: float
) -> np.ndarray | None:
    """:func:`probabilities` of one row: the sums on plain numbers, in the same order,
    and numpy's own exp and sum on arrays of the same shape, so the same bits. None if
    a legal option's utility is NaN (numpy's max is then followed as it is)."""
    weights = w.tolist()
    legal = f.legal[0].tolist()
    u = []
    for base, xs in zip(f.offset[0].tolist(), f.x[0].tolist(), strict=True):
        for xi, wi in zip(xs, weights, strict=True):
            base += xi * wi
        u.append(base)
    if record:
        pull = _record_pull(f, record_days, record_terms)[0].tolist()
        u = [a + record * b for a, b in zip(u, pull, strict=True)]
    open_u = [a for a, ok in zip(u, legal, strict=True) if ok]
    if any(a != a for a in open_u):
        return None
    top = max(open_u) if open_u else -math.inf
    if top in (math.inf, -math.inf):
        top = 0.0
    e = np.exp(np.array([[a - top if ok else -math.inf for a, ok in zip(u, legal, strict=True)]]))
    total = e.sum(axis=1, keepdims=True)
    return np.divide(e, total, out=np.zeros_like(e), where=total > 0)


def situations(
    obs: Observation, model: LeaderModel, among: np.ndarray | None = None, opened: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """The distinct situations of the running rows (of ``among``, if given) as the
    actor's model reads them (with the days its documented options opened, if
    ``opened``): one representative row each and, per row, the index of its situation
    (-1 if not asked or ended)."""
    names, matrix = obs.matrix
    active = np.flatnonzero(obs.active)
    if among is not None:
        if active.size == 1:  # one running row (a game, a crisis alone): no set operation
            active = active if bool((among == active[0]).any()) else active[:0]
        else:
            active = active[np.isin(active, among)]
    index = np.full(obs.n, -1, dtype=np.int64)
    if active.size == 0:
        return np.zeros(0, dtype=np.int64), index
    if active.size == 1:  # one running row is one situation
        index[active] = 0
        return active, index
    keep = [i for i, name in enumerate(names) if name in model.reads]
    parts = [np.nan_to_num(matrix[keep][:, active], nan=-1e300), obs.legal[active].T.astype(float)]
    if opened:
        documented = [j for j, days in enumerate(model.record_days) if days.size]
        parts.append(np.nan_to_num(obs.opened[active][:, documented].T, nan=-1e300))
        parts.append(obs.taken[active][:, documented].T)
    seen = np.concatenate(parts)
    rows = np.ascontiguousarray(seen.T)
    first, inverse = _distinct_rows(rows)
    index[active] = inverse
    return active[first], index


_MULTIPLIERS: dict[int, np.ndarray] = {}


def _row_hash(words: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each row of ``words`` (uint64): a sum of the words times odd
    numbers drawn once, modulo 2**64 (one product; collisions are caught by the
    caller's check)."""
    f = words.shape[1]
    mult = _MULTIPLIERS.get(f)
    if mult is None:
        drawn = np.random.default_rng(f).integers(0, 2**63, size=f, dtype=np.uint64)
        mult = np.asarray(drawn * np.uint64(2) + np.uint64(1))
        _MULTIPLIERS[f] = mult
    return np.asarray(words @ mult)


def _distinct_rows(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows of ``rows`` (2-D, float64) equal byte for byte: one representative
    each, and per row the index of its representative. Rows are told apart by a 64-bit
    hash of their bytes (a sort of integers), and the grouping is checked: every row
    must be its representative's bytes, else (two rows of different bytes with one
    hash) the rows' bytes themselves are sorted. Either way the groups are the rows of
    equal bytes, so which rows share a situation never depends on the hash."""
    words = rows.view(np.uint64)
    h = _row_hash(words)
    first, inverse = first_and_inverse(h)
    if np.array_equal(words[first][inverse], words):
        return first, inverse
    keys = rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))).ravel()
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    return first, inverse.reshape(-1)


class LeaderAgent:
    """A leader chosen by the scenario's one choice model (see the module's docstring),
    with the scenario's fitted coefficients.

    Options override coefficients by feature name (``--agent usa=leader:escalation=2``)
    or start from a preset doctrine (``leader:preset=hawk``): a hawk weighs escalation up
    and concessions down (Kahn's ladder read as compellence); a dove the reverse
    (Osgood's graduated reciprocation). ``record=`` sets the pull of the record (0 for
    the pure model, the default; the historical agent uses the scenario's), measured
    from the replayed record it is handed (``record_opened``, ``record_worth``; the
    ``leader`` of the agent registry, :func:`crisislab.agents.factories.leader`, hands
    it over).
    """

    name: ClassVar[str] = "leader"
    stochastic: ClassVar[bool] = True
    lumpable: ClassVar[bool] = True  # draws only through policy(): the runner may lump
    needs_model_server: ClassVar[bool] = False

    def __init__(
        self,
        scenario: Scenario,
        actor: str,
        record: float | None = None,
        preset: str | None = None,
        record_opened: np.ndarray | None = None,
        record_worth: Mapping[str, np.ndarray] | None = None,
        **options: Any,
    ) -> None:
        if actor not in scenario.players or scenario.role(actor) != "player":
            raise AgentSpecError(f"'{actor}' is not a player of {scenario.id}")
        self.actor = actor
        self.model = LeaderModel(scenario, actor)
        coef = coefficients(scenario, actor)
        if preset is not None:
            if preset not in PRESETS:
                raise AgentSpecError(
                    f"leader: no preset '{preset}'; the presets are: {', '.join(PRESETS)}"
                )
            coef.update(PRESETS[preset])
        for key, value in options.items():
            if key not in coef:
                raise AgentSpecError(
                    f"agent 'leader' has no option '{key}'; its options are: "
                    f"preset, {', '.join(coef)}"
                )
            try:
                coef[key] = float(value)
            except (TypeError, ValueError):
                raise AgentSpecError(
                    f"leader: option '{key}' takes a number, not {value!r}"
                ) from None
        self.coef = coef
        self.beta = np.array([coef[f] for f in FEATURES])
        self.record = 0.0 if record is None else float(record)
        if self.record:
            if record_opened is None:
                raise AgentSpecError(
                    "leader: the pull of the record (record=) is measured "
                    "on the replayed record; build the agent with "
                    "crisislab.agents.factories.leader, which hands it over"
                )
            self.model.anchor(record_opened, record_worth)

    def policy(self, observation: Observation, rows: np.ndarray | None = None) -> np.ndarray:
        """(N, k) choice probabilities; rows of ended crises (and rows not in ``rows``,
        when given) are all zero."""
        reps, index = situations(observation, self.model, rows, opened=bool(self.record))
        k = len(observation.actions)
        out = np.zeros((observation.n, k))
        if reps.size == 0:
            return out
        f = self.model.features(observation, reps)
        p = probabilities(
            f, self.beta, self.record, self.coef["record_days"], self.coef["record_terms"]
        )
        live = index >= 0
        out[live] = p[index[live]]
        return out

    def act(self, observation: Observation) -> np.ndarray:
        return pick_option(self.policy(observation), observation.uniform())
