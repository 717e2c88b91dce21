"""The expected-utility agent: looks ahead by playing the crisis onward in a model of it."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from crisislab.agents.doctrines import conjuncts
from crisislab.agents.registry import AgentSpecError
from crisislab.engine.engine import Engine
from crisislab.engine.loop import run_turns, step_turn
from crisislab.engine.observation import Observation
from crisislab.engine.state import ROW_FIELDS, BatchState
from crisislab.engine.streams import CrisisStreams
from crisislab.scenario.expr import evaluate
from crisislab.scenario.model import Scenario

MAX_ROLLOUTS = 64
MAX_HORIZON = 40


class ExpectedUtilityAgent:
    """Chooses the legal option with the best mean payoff over sampled futures.

    Doctrine: the expected-utility decision maker of decision theory (von Neumann &
    Morgenstern, 1944; Savage, 1954), made concrete as Monte Carlo lookahead: for each
    legal option, ``rollouts`` copies of the crisis are run ``horizon`` turns onward in
    ``model`` (an engine of the scenario's rules, chance drawn freely; by default one
    made from ``scenario``), this actor taking the option now and then playing ``then``
    (a doctrine), the others playing ``others``; a copy that has not ended by then is
    scored by where it stands (see :meth:`_cut_value`). The option with the highest mean
    payoff to this actor wins; among options worth the same, the one the scenario's
    fitted leader is likeliest to take.

    It is slow: every decision runs options x rollouts x horizon engine steps, so use
    it on small batches (defaults: 8 rollouts of 24 turns, the actor then playing the
    scenario's leader model; at most 64 and 40). Crises of a batch in the same position,
    as its actor can know it, share one lookahead. Its rollouts start from what its actor
    can know (:meth:`~crisislab.engine.observation.Observation.belief`): what it cannot
    see is assumed as it was when the crisis began, so the planner is no better informed
    than the leader it stands for. Rollout
    seeds come from ``seed`` and the turn, never from a global generator, so a run is
    reproducible; since its choice depends on more than the observation, it declares
    itself stochastic and is never lumped.
    """

    name: ClassVar[str] = "expected_utility"
    stochastic: ClassVar[bool] = True
    needs_model_server: ClassVar[bool] = False

    def __init__(
        self,
        scenario: Scenario,
        actor: str,
        rollouts: int = 8,
        horizon: int = 24,
        seed: int = 0,
        then: str = "leader",
        others: str = "historical",
        model: Engine | None = None,
        **extra: Any,
    ) -> None:
        if extra:
            raise AgentSpecError(
                f"agent 'expected_utility' has no option "
                f"{', '.join(repr(k) for k in extra)}; its options are: "
                "rollouts, horizon, seed, then, others"
            )
        for key, value, top in (
            ("rollouts", rollouts, MAX_ROLLOUTS),
            ("horizon", horizon, MAX_HORIZON),
        ):
            if not isinstance(value, int) or not 1 <= value <= top:
                raise AgentSpecError(
                    f"expected_utility: {key} must be a whole number from 1 to {top}, not {value!r}"
                )
        if not isinstance(seed, int) or seed < 0:
            raise AgentSpecError("expected_utility: seed must be a whole number >= 0")
        from crisislab.agents.registry import make_agent

        self.actor = actor
        self.rollouts = rollouts
        self.horizon = horizon
        self.seed = seed
        self.scenario = scenario
        self.me = make_agent(then, scenario, actor)
        self.tie_break: Any = None
        if scenario.role(actor) == "player":
            from crisislab.agents.leader import LeaderAgent

            self.tie_break = LeaderAgent(scenario, actor)
        self.others = {
            a: make_agent(others, scenario, a)
            if scenario.role(a) == "player"
            else make_agent("scripted", scenario, a)
            for a in scenario.players
            if a != actor
        }
        self.default_outcome = next(
            (o for o in scenario.outcomes if o.default), scenario.outcomes[-1]
        )
        self.column = scenario.actors.index(actor)
        if model is not None and model.scenario is not scenario:
            raise ValueError("expected_utility: the model must be an engine of the same scenario")
        self.model = Engine(scenario) if model is None else model

    def act(self, observation: Observation) -> np.ndarray:
        engine = self.model
        legal = observation.legal
        out = np.full(
            observation.n, engine.scenario.default_action(self.actor).local, dtype=np.int64
        )
        live = np.flatnonzero(observation.active)
        if live.size == 0:
            return out
        # what the actor can know of each crisis; crises alike in it share one lookahead
        known = observation.belief(live)
        key = np.concatenate(
            [
                known.values,
                known.fired.astype(float),
                known.sent_turn.astype(float),
                known.last_choice.astype(float),
            ],
            axis=0,
        )
        _, first, inverse = np.unique(key.T, axis=0, return_index=True, return_inverse=True)
        rows = [int(r) for r in first]
        picks = self._decide_all(engine, known, rows, [legal[live[r]] for r in rows])
        for group, pick in enumerate(picks):
            out[live[inverse.ravel() == group]] = pick
        return out

    def _decide_all(
        self, engine: Engine, state: BatchState, rows: list[int], legal: list[np.ndarray]
    ) -> list[int]:
        """The choice in each of ``rows``: every option of every row is looked ahead in
        one batch of (rows x options x rollouts) copies, stepped together, where one
        batch per option and row would pay the engine's cost per step for each."""
        picks: list[int | None] = [None] * len(rows)
        ones: dict[int, BatchState] = {}
        pairs: list[tuple[int, int]] = []  # (position in rows, option) to look ahead
        for g, (row, ok) in enumerate(zip(rows, legal, strict=True)):
            candidates = np.flatnonzero(ok)
            if candidates.size <= 1:
                picks[g] = int(candidates[0]) if candidates.size else 0
                continue
            ones[g] = state.select(np.array([row]))
            pairs.extend((g, int(local)) for local in candidates)
        if pairs:
            values = self._values(
                engine, [ones[g] for g, _ in pairs], [local for _, local in pairs]
            )
            for g, one in ones.items():
                mine = [i for i, (h, _) in enumerate(pairs) if h == g]
                candidates = np.array([pairs[i][1] for i in mine])
                worth = np.array([values[i] for i in mine])
                picks[g] = self._pick(engine, one, candidates, worth)
        return [int(p) for p in picks if p is not None]

    def _pick(
        self, engine: Engine, one: BatchState, candidates: np.ndarray, values: np.ndarray
    ) -> int:
        tied = candidates[values >= values.max() - 1e-9]
        if tied.size == 1:
            return int(tied[0])
        # among options worth the same over the look-ahead (waiting a turn often costs
        # nothing when the future self will act anyway), the one the scenario's fitted
        # leader is likeliest to take: otherwise a planner that expects to act later
        # would wait for ever
        if self.tie_break is not None:
            p = self.tie_break.policy(engine.observe(one, self.actor))[0]
            return int(tied[np.argmax(p[tied])])
        return int(tied[0])

    def _values(self, engine: Engine, ones: list[BatchState], options: list[int]) -> list[float]:
        """The mean payoff to this actor of taking ``options[i]`` now in ``ones[i]`` (all
        at one turn), over ``rollouts`` copies each: copy *j* of every pair draws the
        numbers of rollout *j*, as it would in a batch of its own."""
        r = self.rollouts
        turn = ones[0].turn
        seq = np.random.SeedSequence([self.seed, turn])
        streams = CrisisStreams(seq, np.arange(r, dtype=np.int64))
        streams = streams.subset(np.tile(np.arange(r), len(ones)))
        arrays = {
            name: np.repeat(
                np.concatenate([getattr(o, name)[..., :1] for o in ones], axis=-1), r, axis=-1
            )
            for name in ROW_FIELDS
        }
        batch = BatchState(turn, streams, arrays)
        batch.actors = ones[0].actors
        first = np.repeat(np.array(options, dtype=np.int64), r)
        seats = {**self.others, self.actor: self.me}
        end = min(turn + self.horizon, engine.n_turns)
        if turn < end and not batch.done.all():
            step_turn(engine, batch, seats, given={self.actor: first})
            run_turns(engine, batch, seats, until=end)
        payoff = batch.payoffs[self.column].copy()
        open_ = ~batch.done
        if open_.any():
            payoff[open_] = self._cut_value(engine, batch)[open_]
        return [float(payoff[i * r : (i + 1) * r].mean()) for i in range(len(ones))]

    def _cut_value(self, engine: Engine, batch: BatchState) -> np.ndarray:
        """What each copy that the look-ahead leaves unfinished is worth to this actor.

        A war under way counts as the outcome it would end in on a last turn. A copy at
        peace is worth each peaceful outcome's payoff, weighted by the share of that
        outcome's conditions it already meets (as if the clock ended there, so missiles
        still on the island meet the fait accompli's): a crisis whose withdrawal is
        agreed and under way is mostly worth the settlement. Scoring it as if it ended
        there would count every crisis not yet settled as a fait accompli, and make
        accepting the missiles at once look best; scoring it by the status quo would
        make every option that pays off later look like waiting."""
        env = dict(engine.env(batch))
        env["final"] = True
        n = batch.n
        out = np.zeros(n)
        left = np.ones(n, dtype=bool)
        at_war = np.zeros(n, dtype=bool)
        for o in engine.scenario.outcomes:
            holds = (
                left
                if o.default
                else left & np.broadcast_to(np.asarray(evaluate(o.when, env), dtype=bool), (n,))
            )
            node = o.payoffs.get(self.actor)
            if node is not None and holds.any():
                value = np.broadcast_to(np.asarray(evaluate(node, env), float), (n,))
                out[holds] = value[holds]
            if o.escalation > 0:
                at_war |= holds
            left &= ~holds
        weight = np.zeros(n)
        total = np.zeros(n)
        for o in engine.scenario.outcomes:
            node = o.payoffs.get(self.actor)
            if o.default or o.escalation > 0 or node is None:
                continue
            parts = conjuncts(o.when)
            met = sum(
                np.broadcast_to(np.asarray(evaluate(c, env), dtype=bool), (n,)).astype(float)
                for c in parts
            ) / len(parts)
            value = np.broadcast_to(np.asarray(evaluate(node, env), float), (n,))
            weight += met
            total += met * value
        peace = ~at_war & (weight > 0)
        out[peace] = total[peace] / weight[peace]
        return out
