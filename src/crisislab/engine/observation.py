"""What one actor can know at one turn, for every crisis of a batch.

Observations are computed lazily: a batch of a million crises should not build every
masked variable for an agent that reads two of them. An observation belongs to its turn;
reading it after the state has moved on is an error rather than a silent leak of the
next turn's state.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from crisislab.engine.state import ROW_FIELDS, BatchState
from crisislab.engine.streams import CrisisStreams
from crisislab.engine.subenv import SubEnv
from crisislab.scenario.expr import Node, Value, evaluate, evaluate_scalar

if TYPE_CHECKING:
    from crisislab.scenario.model import ActionRule, Scenario


class Rules(Protocol):
    """What an observation reads of the engine that made it
    (:class:`crisislab.engine.engine.Engine`), named here so that this module need not
    import the engine's."""

    @property
    def scenario(self) -> Scenario: ...
    @property
    def actions_by_actor(self) -> Mapping[str, tuple[ActionRule, ...]]: ...
    @property
    def action_ids(self) -> Mapping[str, tuple[str, ...]]: ...
    @property
    def var_index(self) -> Mapping[str, int]: ...
    @property
    def observed(self) -> Mapping[str, dict[str, Node | bool]]: ...
    @property
    def observed_index(self) -> Mapping[str, tuple[tuple[str, ...], np.ndarray]]: ...
    @property
    def observed_rules(self) -> Mapping[str, list[tuple[int, Node]]]: ...
    def agent_stream(self, actor: str) -> int: ...
    def legal_row(self, state: BatchState, actor: str, fenv: Mapping[str, Value]) -> np.ndarray: ...


class StaleObservation(RuntimeError):
    """An observation was read after the crisis moved to another turn."""


class Observation:
    """An actor's view of a batch.

    ``values`` holds only variables the actor can ever observe, with NaN in crises where
    it cannot see them now (``known`` says which). ``legal`` is (N, k) over the actor's
    ``actions``. ``seen_actions`` gives, per actor, the local index of the action it took
    last turn, or -1 where this actor could not see it; ``seen_events`` the events of
    last turn it saw. Stochastic agents draw from :meth:`uniform`, their own stream of the
    crisis's random numbers, never from a generator of their own.
    """

    def __init__(
        self,
        engine: Rules,
        state: BatchState,
        actor: str,
        env: Mapping[str, Value],
        fast: Mapping[str, Value] | None = None,
    ) -> None:
        sc = engine.scenario
        self.actor = actor
        self.turn = state.turn
        self.label = sc.clock.turns[min(state.turn, len(sc.clock) - 1)].label
        self._engine = engine
        self._state = state
        self._env = env
        # a batch of one row evaluates its rules on plain numbers (Engine._envs)
        self._fast = None if fast is None or fast is env else fast
        self._rules = engine.actions_by_actor[actor]
        self.actions: tuple[str, ...] = engine.action_ids[actor]
        self.active: np.ndarray = ~state.done
        self.stream = engine.agent_stream(actor)
        self._columns: dict[int, np.ndarray] = {}
        # caches live here, not in the views, so that no reference cycle keeps a turn's
        # arrays alive after the observation is dropped
        self._known_cache: dict[str, np.ndarray] = {}
        self._values_cache: dict[str, np.ndarray] = {}

    def _check(self) -> None:
        if self._state.turn != self.turn:
            raise StaleObservation(
                f"this observation of '{self.actor}' is from turn {self.turn}; the crisis "
                f"is now at turn {self._state.turn}: observe again"
            )

    @property
    def n(self) -> int:
        return self._state.n

    def is_legal(self, local: int) -> np.ndarray:
        """(N,) availability of one of the actor's actions."""
        if local not in self._columns:
            self._check()
            if self._fast is not None:
                self._columns[local] = self.legal[:, local]
                return self._columns[local]
            cond = np.asarray(evaluate(self._rules[local].when, self._env), dtype=bool)
            self._columns[local] = np.broadcast_to(cond, (self.n,)) & self.active
        return self._columns[local]

    @cached_property
    def legal(self) -> np.ndarray:
        """(N, k) availability of all the actor's actions; nothing in ended crises."""
        if self._fast is not None:
            self._check()
            if not self.active[0]:
                return np.zeros((1, len(self._rules)), dtype=bool)
            return self._engine.legal_row(self._state, self.actor, self._fast)[None, :].copy()
        out = np.zeros((self.n, len(self._rules)), dtype=bool)
        for a in self._rules:
            out[:, a.local] = self.is_legal(a.local)
        return out

    @cached_property
    def opened(self) -> np.ndarray:
        """(N, k): the day each of the actor's own actions first became available in the
        crisis, NaN where it has not yet, and for actions the record never has anyone
        take (only those are noted). An actor knows when its own options opened."""
        self._check()
        out = np.full((self.n, len(self._rules)), np.nan)
        days = self._state.opened
        for i, rule in enumerate(self._engine.scenario.documented_actions):
            if rule.actor == self.actor:
                out[:, rule.local] = np.where(days[i] >= 0, days[i], np.nan)
        return out

    @cached_property
    def taken(self) -> np.ndarray:
        """(N, k): how many times the actor has taken each of its own actions that the
        record has it take (0 for the others, which are not counted)."""
        self._check()
        out = np.zeros((self.n, len(self._rules)))
        counts = self._state.taken
        for i, rule in enumerate(self._engine.scenario.documented_actions):
            if rule.actor == self.actor:
                out[:, rule.local] = counts[i]
        return out

    @property
    def known(self) -> Mapping[str, np.ndarray]:
        """Per observed variable, where the actor can see it now."""
        return _LazyMap(self._observed, self._known_cache, self._mask)

    @property
    def values(self) -> Mapping[str, np.ndarray]:
        """Per observed variable, its value where known and NaN elsewhere."""
        return _LazyMap(self._observed, self._values_cache, self._value)

    @property
    def _observed(self) -> dict[str, Node | bool]:
        return self._engine.observed[self.actor]

    def _mask(self, name: str) -> np.ndarray:
        self._check()
        rule = self._engine.scenario.variable(name).observers[self.actor]
        if rule is True:
            return np.ones(self.n, dtype=bool)
        assert not isinstance(rule, bool)
        if self._fast is not None:
            return np.array([bool(evaluate_scalar(rule, self._fast))])
        return np.broadcast_to(np.asarray(evaluate(rule, self._env), dtype=bool), (self.n,)).copy()

    def _value(self, name: str) -> np.ndarray:
        self._check()
        v = self._engine.scenario.variable(name)
        return np.where(self.known[name], self._state.values[v.index], np.nan)

    def column(self, name: str, rows: np.ndarray | None = None) -> np.ndarray:
        """One observed variable in ``rows`` only (every row if None), NaN where hidden:
        for agents that narrow a question down to a few rows, so that neither the value
        nor its visibility rule is computed for the rest."""
        if rows is None:
            return self.values[name]
        self._check()
        rule = self._observed[name]
        value = self._state.values[self._engine.var_index[name], rows]
        if rule is True:
            return value
        assert not isinstance(rule, bool)
        if name in self._known_cache:
            known = self._known_cache[name][rows]
        else:
            known = np.broadcast_to(
                np.asarray(evaluate(rule, SubEnv(self._env, rows)), dtype=bool), (rows.size,)
            )
        return np.where(known, value, np.nan)

    @cached_property
    def matrix(self) -> tuple[tuple[str, ...], np.ndarray]:
        """Every observed variable at once: (names, array of shape (variables, N)) with
        NaN where hidden. One gather instead of one array per variable, for agents that
        read everything they see."""
        self._check()
        names, index = self._engine.observed_index[self.actor]
        out = self._state.values[index]
        if self._fast is not None:  # one row: each visibility rule on plain numbers
            fast = self._fast
            for i, rule in self._engine.observed_rules[self.actor]:
                if not evaluate_scalar(rule, fast):
                    out[i, 0] = np.nan
            return names, out
        for i, k in enumerate(names):
            if self._observed[k] is not True:
                out[i, ~self.known[k]] = np.nan
        return names, out

    @cached_property
    def seen_actions(self) -> dict[str, np.ndarray]:
        self._check()
        out: dict[str, np.ndarray] = {}
        for other, chosen in self._state.last_actions.items():
            visible = _visible(self._engine.actions_by_actor[other], self.actor)
            out[other] = np.where(visible[chosen], chosen, -1)
        return out

    @cached_property
    def seen_events(self) -> dict[str, np.ndarray]:
        """Per event the actor sees, whether it happened last turn in each crisis (each a
        copy, rows of one gather of the state's)."""
        self._check()
        ids, index = _seen_events(self._engine.scenario, self.actor)
        return dict(zip(ids, self._state.last_events[index], strict=True))

    def builtins(self) -> dict[str, Value]:
        """The clock and the escalation so far, as expressions read them (``turn``,
        ``day``, ``turn_days``, ``final``, ``escalation``, ``peak_escalation``): public to
        every actor."""
        self._check()
        from crisislab.scenario.model import BUILTINS

        return {b: self._env[b] for b in BUILTINS}

    def uniform(self, draw: int = 0) -> np.ndarray:
        """Per-crisis uniforms in [0, 1) for this actor, turn and ``draw`` number."""
        if not 0 <= draw < 4096:
            raise ValueError("draw must be in 0..4095")
        if self._state.lumped:
            raise RuntimeError(
                "a lumped batch steps many crises as one row, so an agent that draws "
                "chance cannot run on it; declare the agent `stochastic = True`"
            )
        return self._state.streams.uniform(self.turn, self.stream + draw)

    def belief(self, rows: np.ndarray | None = None) -> BatchState:
        """The crisis as this actor can know it, for a planner that plays it onward (the
        expected-utility agent): rows ``rows`` of the batch (all if None) as a batch of
        their own, unlumped, in which

        - a variable the actor cannot see now holds its starting value (what it would
          assume with no intelligence of it: the missiles it has not found are not there);
        - an event it never sees has not happened, and a letter it neither sent nor was
          sent, nor could read in public, was never written;
        - another actor's action it could not see was not taken last turn, and is not
          counted among that actor's documented steps.

        The clock, the escalation (public to all) and the actor's own side are as they
        are. The chance streams are placeholders (crises 0..k-1 of seed 0), never the
        crisis's own, so a planner cannot read the draws to come."""
        self._check()
        sc = self._engine.scenario
        state = self._state
        picked = np.arange(self.n) if rows is None else np.asarray(rows, dtype=np.int64)
        arrays = {name: np.array(getattr(state, name)[..., picked]) for name in ROW_FIELDS}
        observed = self._observed
        values = arrays["values"]
        for v in sc.variables:
            rule = observed.get(v.id)
            if rule is None:
                values[v.index] = v.initial
            elif rule is not True:
                values[v.index, ~self.known[v.id][picked]] = v.initial
        for e in sc.events:
            if self.actor not in e.seen_by:
                arrays["fired"][e.index] = False
                arrays["last_events"][e.index] = False
        for i, m in enumerate(sc.messages):
            if not (m.public or m.sender == self.actor or self.actor in m.to):
                arrays["sent_turn"][i] = -1
        seen = self.seen_actions
        for i, other in enumerate(state.actors):
            if other != self.actor and other in seen:
                arrays["last_choice"][i] = seen[other][picked]
        for i, documented in enumerate(sc.documented_actions):
            if documented.actor != self.actor and self.actor not in documented.seen_by:
                arrays["taken"][i] = 0.0
        out = BatchState(state.turn, CrisisStreams(0, np.arange(picked.size)), arrays)
        out.actors = state.actors
        return out

    def row(self, i: int = 0) -> dict[str, Any]:
        """Crisis ``i``'s view as plain data (for people, language models and tests)."""
        return {
            "actor": self.actor,
            "turn": self.turn,
            "date": self.label,
            "state": {k: float(self.values[k][i]) for k in self.values if self.known[k][i]},
            "legal": [a for a, ok in zip(self.actions, self.legal[i], strict=True) if ok],
            "seen_actions": {k: int(v[i]) for k, v in self.seen_actions.items()},
            "seen_events": sorted(k for k, v in self.seen_events.items() if v[i]),
        }


_VISIBLE: dict[tuple[int, str], tuple[tuple[ActionRule, ...], np.ndarray]] = {}
_SEEN_EVENTS: dict[tuple[int, str], tuple[Scenario, tuple[str, ...], np.ndarray]] = {}


def _visible(rules: tuple[ActionRule, ...], actor: str) -> np.ndarray:
    """(k + 1,) whether ``actor`` sees each of ``rules`` taken (and False for -1, no
    action), worked out once per rules and actor (read-only)."""
    held = _VISIBLE.get((id(rules), actor))
    if held is None or held[0] is not rules:
        if len(_VISIBLE) > 4096:
            _VISIBLE.clear()
        visible = np.array([actor in a.seen_by for a in rules] + [False], dtype=bool)
        visible.flags.writeable = False
        held = (rules, visible)
        _VISIBLE[(id(rules), actor)] = held
    return held[1]


def _seen_events(sc: Scenario, actor: str) -> tuple[tuple[str, ...], np.ndarray]:
    """The ids and indices of the events ``actor`` sees, in file order (once per
    scenario and actor)."""
    held = _SEEN_EVENTS.get((id(sc), actor))
    if held is None or held[0] is not sc:
        if len(_SEEN_EVENTS) > 4096:
            _SEEN_EVENTS.clear()
        seen = [e for e in sc.events if actor in e.seen_by]
        index = np.array([e.index for e in seen], dtype=np.int64)
        held = (sc, tuple(e.id for e in seen), index)
        _SEEN_EVENTS[(id(sc), actor)] = held
    return held[1], held[2]


class _LazyMap(Mapping[str, np.ndarray]):
    """A read-only view whose values are computed on first access into ``cache``."""

    def __init__(
        self,
        keys: Mapping[str, Any],
        cache: dict[str, np.ndarray],
        compute: Callable[[str], np.ndarray],
    ) -> None:
        self._keys = keys
        self._cache = cache
        self._compute = compute

    def __getitem__(self, key: str) -> np.ndarray:
        if key not in self._keys:
            raise KeyError(key)
        if key not in self._cache:
            self._cache[key] = self._compute(key)
        return self._cache[key]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)
