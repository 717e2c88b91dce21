"""Doctrine personas: hawk, dove and Allison's three lenses, for any scenario.

Each doctrine reads only the scenario's metadata (an action's rung on the one escalation
scale, its condition, its effects, whether it sends a letter) and what its actor observes,
so it plays any scenario; the scenario's own ``doctrines`` section adjusts a doctrine for
one actor where the generic rule would misread the record (see ``docs/agents.md``).

Every doctrine is deterministic given what its actor observes, so a batch of them is
*lumped* by the engine, and every one acts on all rows of a batch with numpy operations on
an ``(N, k)`` score matrix: no Python loop runs over crises.

Options come from the command line (``--agent usa=hawk:ceiling=6``). Lists of action ids
(``prefer``, ``avoid``) are written with ``+`` between ids, since commas separate options.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from crisislab.agents.registry import AgentSpecError
from crisislab.engine.grouping import first_and_inverse
from crisislab.engine.observation import Observation
from crisislab.scenario.expr import BoolOp, Effect, Node, Unary, Value, evaluate, names_in
from crisislab.scenario.model import Scenario, VariableRule


def _id_list(value: Any, option: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.replace("|", "+").split("+") if v.strip()]
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    raise AgentSpecError(
        f"option '{option}' takes action ids joined by '+', e.g. "
        f"{option}=usa_protest+usa_public_warning"
    )


class ActionTable:
    """What a doctrine reads about one actor's options, as arrays over its k actions."""

    def __init__(self, scenario: Scenario, actor: str) -> None:
        rules = scenario.actions_of(actor)
        self.rules = rules
        self.ids = tuple(a.id for a in rules)
        self.k = len(rules)
        self.level = np.array([a.escalation for a in rules], dtype=np.float64)
        self.top = float(max((e.level for e in scenario.spec.escalation), default=1)) or 1.0
        self.default = scenario.default_action(actor).local
        self.sends = np.array([a.sends is not None for a in rules], dtype=bool)
        # a what-if's forced actions (``forced_by``): taken whenever they are legal
        self.forced = np.array([a.forced for a in rules], dtype=bool)
        is_default = np.zeros(self.k, dtype=bool)
        is_default[self.default] = True
        self.is_default = is_default
        self.bits = np.left_shift(np.int64(1), np.arange(self.k, dtype=np.int64))
        # a unlocks b when a's effects write a name b's condition reads
        self.unlocks = np.zeros((self.k, self.k), dtype=bool)
        for a in rules:
            targets = {e.target for e in a.effects}
            if a.sends is not None:
                targets |= {f"{a.sends}_sent", f"{a.sends}_received"}
            for b in rules:
                if b.local != a.local and targets & names_in(b.when):
                    self.unlocks[a.local, b.local] = True

    def local(self, action_id: str, option: str, strict: bool = True) -> int:
        """The local index of ``action_id``; -1 for an id this scenario lacks when not
        ``strict`` (tuning written for a scenario a what-if has trimmed)."""
        if action_id not in self.ids:
            if not strict:
                return -1
            raise AgentSpecError(
                f"option '{option}': '{action_id}' is not an action of this "
                f"actor; use one of: {', '.join(self.ids)}"
            )
        return self.ids.index(action_id)

    def stepping_stones(self, ceiling: float) -> np.ndarray:
        """Per action, the highest rung up to ``ceiling`` among the actions it unlocks
        (-inf if none)."""
        target = np.where(self.level <= ceiling, self.level, -np.inf)
        reach = np.where(self.unlocks, target[None, :], -np.inf)
        return reach.max(axis=1) if self.k else np.zeros(0)


class Doctrine(ABC):
    """Base of the doctrine personas: options, tuning, and the vectorised choice.

    A subclass gives :meth:`scores`, an ``(N, k)`` or ``(k,)`` array of preferences; the
    choice is the legal action with the highest score (ties go to the action listed first
    in the scenario). Actions a what-if forces are taken whenever legal; ``prefer`` and
    ``avoid`` name actions to take first or only when nothing else is legal.
    """

    name: ClassVar[str] = "doctrine"
    stochastic: ClassVar[bool] = False
    needs_model_server: ClassVar[bool] = False
    OPTIONS: ClassVar[dict[str, Any]] = {}
    COMMON: ClassVar[dict[str, Any]] = {"prefer": None, "avoid": None, "scores": None}

    def __init__(self, scenario: Scenario, actor: str, **options: Any) -> None:
        allowed = {**self.COMMON, **self.OPTIONS}
        unknown = sorted(set(options) - set(allowed))
        if unknown:
            raise AgentSpecError(
                f"agent '{self.name}' has no option {', '.join(repr(u) for u in unknown)}; "
                f"its options are: {', '.join(sorted(allowed))}"
            )
        if actor not in scenario.players:
            raise AgentSpecError(f"'{actor}' is not an acting actor of {scenario.id}")
        tuned = scenario.doctrine_options(self.name, actor)
        self.options: dict[str, Any] = {**allowed, **tuned, **options}
        self.given = set(options)
        for key, default in self.OPTIONS.items():
            if isinstance(default, int | float) and not isinstance(default, bool):
                try:
                    self.options[key] = float(self.options[key])
                except (TypeError, ValueError):
                    raise AgentSpecError(
                        f"agent '{self.name}': option '{key}' takes a "
                        f"number, not {self.options[key]!r}"
                    ) from None
        self.actor = actor
        self.scenario_id = scenario.id
        self.table = ActionTable(scenario, actor)
        t = self.table
        self.bias = np.zeros(t.k)
        for i, local in enumerate(self.locals("prefer")):
            self.bias[local] += 1000.0 - i
        for local in self.locals("avoid"):
            self.bias[local] -= 1000.0
        self.bias[t.forced] += 1e6
        overrides = self.options["scores"] or {}
        if not isinstance(overrides, Mapping):
            raise AgentSpecError(
                "option 'scores' is set in code (a mapping), not on the "
                "command line; use prefer=/avoid= there"
            )
        strict = "scores" in self.given
        self.overrides = {t.local(a, "scores", strict): float(v) for a, v in overrides.items()}
        self.overrides.pop(-1, None)

    def locals(self, option: str) -> list[int]:
        """The local indices of the action ids an option lists (ids the scenario lacks are
        an error when given on the command line, skipped when they come from tuning)."""
        strict = option in self.given
        found = [
            self.table.local(a, option, strict) for a in _id_list(self.options[option], option)
        ]
        return [i for i in found if i >= 0]

    @abstractmethod
    def scores(self, obs: Observation, rows: np.ndarray | None = None) -> np.ndarray:
        """Per row and option, how much this doctrine wants it (higher is better); only
        for ``rows`` of the batch when given."""

    def key(self, obs: Observation) -> np.ndarray | None:
        """Per row, an integer that fixes this doctrine's choice: rows with equal keys
        choose alike, so the choice is made once per distinct key. None when the choice
        reads more than a key holds (the default)."""
        return None

    def override(self, s: np.ndarray) -> np.ndarray:
        for local, value in self.overrides.items():
            s[..., local] = value
        return s

    def act(self, observation: Observation) -> np.ndarray:
        if observation.n == 1:  # one row is one situation: no key to sort
            return self.choose(observation)
        keys = self.key(observation)
        if keys is None:
            return self.choose(observation)
        # a batch of tens of thousands of histories holds a few dozen distinct situations
        # as a doctrine sees them: choose once for each
        first, inverse = first_and_inverse(keys)
        return self.choose(observation, first)[inverse]

    def choose(self, observation: Observation, rows: np.ndarray | None = None) -> np.ndarray:
        """The legal option with the highest score, in every row (or in ``rows``)."""
        legal = observation.legal if rows is None else observation.legal[rows]
        s = np.broadcast_to(self.scores(observation, rows), legal.shape) + self.bias
        s = np.where(legal, s, -np.inf)
        pick = np.argmax(s, axis=1)
        none = ~legal.any(axis=1)
        pick[none] = self.table.default
        return pick.astype(np.int64)

    def legal_key(self, obs: Observation, spare_bits: int = 0) -> np.ndarray | None:
        """The legal options of each row as the bits of one integer, leaving
        ``spare_bits`` above them for more of the key (None if they do not fit)."""
        k = self.table.k
        if k + spare_bits > 62:
            return None
        return obs.legal.astype(np.int64) @ self.table.bits


class HawkAgent(Doctrine):
    """Climbs the escalation ladder: the most escalatory legal option up to ``ceiling``.

    Doctrine: Herman Kahn's escalation ladder (*On Escalation*, 1965) read as a strategy
    of compellence (Schelling, *Arms and Influence*, 1966, ch. 2): raise the stakes rung
    by rung until the other side yields, but stop below a ceiling (by default the rung
    seven tenths of the way up the scale; for 1962 the invasion for Washington, the
    Berlin squeeze for Moscow). In October 1962 this was the counsel of the Joint Chiefs
    and of the ExComm members who favoured an air strike. An option that opens the way to
    a higher rung (convening the ExComm, massing forces) counts as that rung less 1.5;
    concessions (other rung-0 options) score below waiting.
    """

    name: ClassVar[str] = "hawk"
    OPTIONS: ClassVar[dict[str, Any]] = {"ceiling": -1.0}

    def __init__(self, scenario: Scenario, actor: str, **options: Any) -> None:
        super().__init__(scenario, actor, **options)
        t = self.table
        ceiling = self.options["ceiling"]
        if ceiling < 0:
            levels = sorted(e.level for e in scenario.spec.escalation)
            ceiling = max(lv for lv in levels if lv <= 0.7 * t.top)
        self.ceiling = ceiling
        within = t.level <= ceiling
        s = np.where(within, t.level, -1.0)
        s = np.where(within, np.maximum(s, t.stepping_stones(ceiling) - 1.5), s)
        s[(t.level == 0) & ~t.is_default & (s <= 0)] = -0.5
        s[t.default] = 0.0
        self.static = self.override(s)

    def scores(self, obs: Observation, rows: np.ndarray | None = None) -> np.ndarray:
        return self.static

    def key(self, obs: Observation) -> np.ndarray | None:
        return self.legal_key(obs)


class DoveAgent(Doctrine):
    """Seeks the way down: the least escalatory option that does something, preferring
    proposals and acceptances to waiting, and waiting to any escalation above ``limit``.

    Doctrine: Charles Osgood's graduated reciprocation in tension-reduction (*An
    Alternative to War or Surrender*, 1962) and the ExComm's diplomatic wing (Stevenson's
    proposal of a trade, Allison & Zelikow, *Essence of Decision*, 2nd ed. 1999, ch. 6):
    make conciliatory moves that invite reciprocation, never raise the stakes. Options at
    rung 0 other than waiting score 2, those that send a letter 3; waiting scores 1;
    options up to ``limit`` (default 0) score just above waiting, the rest below it.
    """

    name: ClassVar[str] = "dove"
    OPTIONS: ClassVar[dict[str, Any]] = {"limit": 0.0}

    def __init__(self, scenario: Scenario, actor: str, **options: Any) -> None:
        super().__init__(scenario, actor, **options)
        t = self.table
        limit = self.options["limit"]
        s = np.where(t.level <= limit, 1.5 - t.level / t.top, 1.0 - t.level)
        s[(t.level == 0) & ~t.is_default] = 2.0
        s[(t.level == 0) & t.sends] = 3.0
        s[t.default] = 1.0
        self.static = self.override(s)

    def scores(self, obs: Observation, rows: np.ndarray | None = None) -> np.ndarray:
        return self.static

    def key(self, obs: Observation) -> np.ndarray | None:
        return self.legal_key(obs)


class PoliticalAgent(Doctrine):
    """Governmental politics: the option a weighted vote of a hawk and a dove faction
    carries.

    Doctrine: Allison's Model III (*Essence of Decision*, 1971, ch. 5; Allison & Zelikow
    1999, ch. 5-6): a government's act is the resultant of bargaining among players with
    different stakes. Each faction ranks the legal options by its own doctrine
    (:class:`HawkAgent`, :class:`DoveAgent`, with this actor's tuning); the ranks are
    normalised to [0, 1] and summed with weights ``hawk_weight`` and ``1 - hawk_weight``
    (a Borda count); the top total wins. In 1962 the ExComm's doves carried the
    quarantine and the letters, hence a default hawk weight below one half.
    """

    name: ClassVar[str] = "political"
    OPTIONS: ClassVar[dict[str, Any]] = {"hawk_weight": 0.5}

    def __init__(self, scenario: Scenario, actor: str, **options: Any) -> None:
        super().__init__(scenario, actor, **options)
        w = self.options["hawk_weight"]
        if not 0 <= w <= 1:
            raise AgentSpecError(f"hawk_weight must be between 0 and 1, not {w}")
        self.weight = w
        self.hawk = HawkAgent(scenario, actor)
        self.dove = DoveAgent(scenario, actor)
        # each faction's static preference order (best first; ties in file order)
        self.orders = [np.argsort(-f.static, kind="stable") for f in (self.hawk, self.dove)]

    def key(self, obs: Observation) -> np.ndarray | None:
        return self.legal_key(obs)

    def scores(self, obs: Observation, rows: np.ndarray | None = None) -> np.ndarray:
        legal = obs.legal if rows is None else obs.legal[rows]
        total = np.zeros(legal.shape)
        n_legal = np.maximum(legal.sum(axis=1, keepdims=True), 1)
        for order, w in zip(self.orders, (self.weight, 1 - self.weight), strict=True):
            # rank of each legal option within its row (0 = the faction's favourite):
            # the number of legal options before it in the faction's order
            ranks = np.empty(legal.shape, dtype=np.int64)
            ranks[:, order] = np.cumsum(legal[:, order], axis=1) - 1
            total += w * np.where(legal, 1 - ranks / n_legal, 0.0)
        return self.override(total)


class OrganizationalAgent(Doctrine):
    """Organisational process: standard operating procedures, inertia and one rung at a
    time.

    Doctrine: Allison's Model II (*Essence of Decision*, 1971, ch. 3; Allison & Zelikow
    1999, ch. 3-4): governments act through organisations that run programmes from a
    fixed repertoire, change slowly and answer a new stimulus with the next routine
    response. Per crisis, in order: (1) the first legal programme of ``repertoire`` (by
    default the actor's letters, then rung-0 options that open others, in file order);
    (2) if provoked (an action or event it saw last turn on a higher rung than its own
    last action), the legal option one rung above its last, up to ``ceiling``; (3) its
    last action again if still legal (inertia); (4) waiting.
    """

    name: ClassVar[str] = "organizational"
    OPTIONS: ClassVar[dict[str, Any]] = {"ceiling": 5.0, "repertoire": None}

    def __init__(self, scenario: Scenario, actor: str, **options: Any) -> None:
        super().__init__(scenario, actor, **options)
        t = self.table
        if self.options["repertoire"]:
            programme = self.locals("repertoire")
        else:
            cand = (t.level == 0) & ~t.is_default & (t.sends | t.unlocks.any(axis=1))
            programme = [int(i) for i in np.flatnonzero(cand)]
        self.programme = np.full(t.k, -np.inf)
        for rank, local in enumerate(programme):
            self.programme[local] = 100.0 - rank
        self.ceiling = self.options["ceiling"]
        self.levels_of = {
            a: np.array([r.escalation for r in scenario.actions_of(a)] + [0.0])
            for a in scenario.players
        }
        self.event_levels = np.array([e.escalation or 0 for e in scenario.events], dtype=np.float64)
        self.event_index = {e.id: e.index for e in scenario.events}

    def _situation(
        self, obs: Observation, rows: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per row: the actor's own last action (-1 if none seen) and whether something
        it saw last turn stood on a higher rung (it was provoked)."""
        t = self.table
        n = obs.n if rows is None else rows.size
        seen = obs.seen_actions

        def pick(a: np.ndarray) -> np.ndarray:
            return a if rows is None else a[rows]

        own = pick(seen[self.actor]) if self.actor in seen else np.full(n, -1)
        own_level = np.where(own >= 0, t.level[np.clip(own, 0, t.k - 1)], 0.0)
        stimulus = np.zeros(n)
        for other, chosen in seen.items():
            if other != self.actor:
                stimulus = np.maximum(stimulus, self.levels_of[other][pick(chosen)])
        for eid, fired in obs.seen_events.items():
            stimulus = np.maximum(
                stimulus, np.where(pick(fired), self.event_levels[self.event_index[eid]], 0.0)
            )
        return own, stimulus > own_level

    def key(self, obs: Observation) -> np.ndarray | None:
        own_bits = int(self.table.k + 1).bit_length()
        legal = self.legal_key(obs, spare_bits=own_bits + 1)
        if legal is None:
            return None
        own, provoked = self._situation(obs)
        return (
            legal
            | ((own + 1).astype(np.int64) << self.table.k)
            | (provoked.astype(np.int64) << (self.table.k + own_bits))
        )

    def scores(self, obs: Observation, rows: np.ndarray | None = None) -> np.ndarray:
        t = self.table
        own, provoked = self._situation(obs, rows)
        n = own.size
        own_level = np.where(own >= 0, t.level[np.clip(own, 0, t.k - 1)], 0.0)
        s = np.broadcast_to(self.programme, (n, t.k)).copy()
        # one rung up, the lowest such rung first
        up = (t.level[None, :] > own_level[:, None]) & (t.level[None, :] <= self.ceiling)
        s = np.where(provoked[:, None] & up & np.isinf(s), 50.0 - t.level[None, :], s)
        # inertia
        again = np.flatnonzero((own >= 0) & (own != t.default))
        repeat = np.full((n, t.k), False)
        repeat[again, own[again]] = True
        s = np.where(repeat & np.isinf(s), 10.0, s)
        s[:, t.default] = 0.0
        return self.override(np.where(np.isinf(s), -1.0, s))


class RationalAgent(Doctrine):
    """The unitary rational actor: the option with the best one-step expected payoff
    proxy.

    Doctrine: Allison's Model I (*Essence of Decision*, 1971, ch. 1; Allison & Zelikow
    1999, ch. 1-2), the value-maximising government of classical strategy (Schelling,
    *The Strategy of Conflict*, 1960). The proxy, computed from what the actor observes:
    apply the option's effects to the observed state; for each outcome, measure how many
    of the top-level clauses of its condition then hold (clauses about the clock are
    left out), against doing nothing; weight
    that progress by how much the actor prefers the outcome to the status quo (the
    default outcome), in units of its payoff spread; subtract ``risk_aversion`` times the
    option's rung (as a share of the scale). An option that opens others counts for
    ``foresight`` times the best of them. It is myopic by design: it sees where one move
    leads, not how the others answer (the expected-utility agent does that).
    """

    name: ClassVar[str] = "rational"
    OPTIONS: ClassVar[dict[str, Any]] = {"risk_aversion": 0.5, "foresight": 0.8}

    def __init__(self, scenario: Scenario, actor: str, **options: Any) -> None:
        super().__init__(scenario, actor, **options)
        self.risk = self.options["risk_aversion"]
        self.foresight = self.options["foresight"]
        self.parameters = dict(scenario.parameters)
        self.variables: dict[str, VariableRule] = {v.id: v for v in scenario.variables}
        self.outcomes = [(o, _clauses(o.when)) for o in scenario.outcomes]
        self.default_outcome = next(
            (o for o in scenario.outcomes if o.default), scenario.outcomes[-1]
        )

    def _env(self, obs: Observation) -> dict[str, Value]:
        n = obs.n
        env: dict[str, Value] = dict(self.parameters)
        hidden = np.full(n, np.nan)
        for v in self.variables:
            env[v] = hidden
        for name in obs.values:
            env[name] = obs.values[name]
        env.update(obs.builtins())  # the clock and the escalation so far
        return env

    def scores(self, obs: Observation, rows: np.ndarray | None = None) -> np.ndarray:
        if rows is not None:
            return self.scores(obs)[rows]
        t = self.table
        n = obs.n
        env = self._env(obs)
        pay = {}
        for o, _ in self.outcomes:
            node = o.payoffs.get(self.actor)
            value = 0.0 if node is None else evaluate(node, env)
            pay[o.id] = np.nan_to_num(np.broadcast_to(np.asarray(value, float), (n,)))
        status = pay[self.default_outcome.id]
        spread = np.maximum(np.ptp(np.stack(list(pay.values())), axis=0), 1e-9)
        base = {o.id: _progress(clauses, env, n) for o, clauses in self.outcomes if clauses}
        value = np.zeros((n, t.k))
        for rule in t.rules:
            if rule.local == t.default:
                continue
            after = _after(env, rule.effects, self.variables, n)
            gain = np.zeros(n)
            for o, clauses in self.outcomes:
                if not clauses:
                    continue
                if not any(names_in(c) & set(after.changed) for c in clauses):
                    continue
                delta = _progress(clauses, after.env, n) - base[o.id]
                gain += delta * (pay[o.id] - status) / spread
            value[:, rule.local] = gain - self.risk * rule.escalation / t.top
        if self.foresight > 0:
            ahead = np.where(t.unlocks[None, :, :], value[:, None, :], -np.inf).max(axis=2)
            value = np.maximum(value, self.foresight * ahead)
        value[:, t.default] = 0.0
        return self.override(value)


_CLOCK = {"turn", "day", "final", "turn_days"}


def conjuncts(node: Node) -> list[Node]:
    """The top-level clauses of a condition (the parts of its outermost ``and``)."""
    return list(node.values) if isinstance(node, BoolOp) and node.op == "and" else [node]


def _clauses(node: Node) -> list[Node]:
    """The top-level clauses of a condition that are about the state, read as if the
    clock had not run out: a part of a clause that reads the clock (a timer, the
    period's end) counts as not met, so ``accepted or (final and missiles > 0)`` is the
    clause ``accepted``, what a choice can bring about now. A clause about timing alone
    is left out (it would reward resetting a timer)."""
    out = []
    for p in conjuncts(node):
        q = _not_yet(p)
        if not isinstance(q, bool):
            out.append(q)
    return out


def _not_yet(node: Node) -> Node | bool:
    """``node`` with every part that reads the clock taken as false, simplified; True or
    False where nothing about the state is left."""
    if not names_in(node) & _CLOCK:
        return node
    if isinstance(node, BoolOp):
        parts: list[Node] = []
        for v in node.values:
            q = _not_yet(v)
            if isinstance(q, bool):
                if q == (node.op == "or"):  # True in an ``or``, False in an ``and``
                    return q
                continue
            parts.append(q)
        if not parts:
            return node.op == "and"
        return parts[0] if len(parts) == 1 else BoolOp(node.op, tuple(parts))
    if isinstance(node, Unary) and node.op == "not":
        q = _not_yet(node.operand)
        return (not q) if isinstance(q, bool) else Unary("not", q)
    return False


def _progress(clauses: list[Node], env: Mapping[str, Value], n: int) -> np.ndarray:
    total = np.zeros(n)
    for c in clauses:
        with np.errstate(invalid="ignore"):
            total += np.broadcast_to(np.asarray(evaluate(c, env), dtype=bool), (n,))
    return total / len(clauses)


class _After:
    def __init__(self, env: dict[str, Value], changed: list[str]) -> None:
        self.env = env
        self.changed = changed


def _after(
    env: Mapping[str, Value],
    effects: tuple[Effect, ...],
    variables: Mapping[str, VariableRule],
    n: int,
) -> _After:
    """The observed state after ``effects``, saturated as the engine saturates it."""
    from crisislab.engine.engine import assigned, bound

    out = dict(env)
    changed = []
    for eff in effects:
        with np.errstate(invalid="ignore"):
            value = np.broadcast_to(assigned(eff, out), (n,))
            current = np.asarray(out[eff.target], dtype=np.float64)
        known = ~np.isnan(np.broadcast_to(current, (n,))) | ~np.isnan(value)
        out[eff.target] = np.where(known, bound(variables[eff.target], value), np.nan)
        changed.append(eff.target)
    return _After(out, changed)
