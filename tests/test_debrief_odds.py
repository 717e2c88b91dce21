"""The debrief's odds are those of the plain computation, crisis by crisis, however it
gets them: each simulation run once, the ones known to equal another not run at all,
and the rest spread over processes."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import numpy as np
import pytest
import yaml

import crisislab.play.debrief as debrief
from crisislab.agents.base import Agent
from crisislab.agents.registry import make_agent
from crisislab.play.debrief import (
    Debrief,
    Decision,
    Odds,
    _certain_choice,
    _Context,
    _effects,
    _Forced,
    _Job,
    build,
    to_json,
)
from crisislab.play.script import parse_moves, play_moves
from crisislab.play.session import GameSetup, Session, follow_choice, record_choice
from crisislab.runner import run_onward
from crisislab.scenario.loader import load_scenario
from crisislab.scenario.model import Scenario

MINI = Path(__file__).parent / "data" / "mini.yaml"


@pytest.fixture(scope="module")
def cuba() -> Scenario:
    return load_scenario("cuba-1962")


@pytest.fixture(scope="module")
def mini() -> Scenario:
    return load_scenario(MINI)


def plain_odds(d: Debrief, session: Session, runs: int, stand_in: str, seed: int) -> None:
    """The debrief's odds as it computed them before it learnt to save work: for the
    start and for every decision three simulations (before, after, alternative), each
    run in full, one after the other, in this process."""
    sc = session.scenario
    ids = [o.id for o in sc.outcomes]

    def seats(override: dict[str, Agent]) -> dict[str, Agent]:
        agents: dict[str, Agent] = dict(session.agents)
        for actor in session.humans:
            agents[actor] = make_agent(stand_in, sc, actor)
        agents.update(override)
        return agents

    def simulate(state: Any, override: dict[str, Agent]) -> np.ndarray:
        result = run_onward(sc, state, seats(override), runs, seed=seed)
        return np.asarray(result.outcome)[np.argsort(result.crisis_ids, kind="stable")]

    def odds(outcomes: np.ndarray) -> Odds:
        counts: dict[str, int] = {}
        for i in outcomes:
            counts[ids[int(i)]] = counts.get(ids[int(i)], 0) + 1
        return Odds(runs, counts)

    def forced(turn: int, choice: int, actor: str) -> dict[str, Agent]:
        return {actor: cast(Agent, _Forced(turn, choice, make_agent(stand_in, sc, actor)))}

    d.start_odds = odds(simulate(session.before[min(session.before)], {}))
    for trace in session.traces:
        state = session.before[trace.turn]
        for actor in session.humans:
            if actor in session.followed(trace.turn):
                continue
            choice = trace.choices[actor]
            obs = session.engine.observe(state, actor)
            alternative = record_choice(session, actor, state)
            source = "record"
            if alternative is None:
                proxy = make_agent(stand_in, sc, actor)
                alternative = obs.actions[int(np.asarray(proxy.act(obs))[0])]
                source = "stand-in"
            if choice == alternative:
                continue
            before = simulate(state, {})
            after = simulate(state, forced(trace.turn, obs.actions.index(choice), actor))
            alt = simulate(state, forced(trace.turn, obs.actions.index(alternative), actor))
            d.decisions.append(
                Decision(
                    trace.turn,
                    sc.clock.turns[trace.turn].label,
                    actor,
                    choice,
                    sc.action(choice).label,
                    alternative,
                    sc.action(alternative).label,
                    source,
                    odds(before),
                    odds(after),
                    odds(alt),
                    _effects(after, alt, ids),
                )
            )


def plain(session: Session, runs: int, stand_in: str = "historical", seed: int = 0) -> Debrief:
    d = build(session, runs=0, stand_in=stand_in, seed=seed)
    d.runs = runs
    plain_odds(d, session, runs, stand_in, seed)
    return d


def cuba_game(sc: Scenario, moves: str, seed: int = 0) -> Session:
    """A game of cuba-1962 with the USA played from ``moves`` (a moves file's text)."""
    seats = {"usa": "human", "ussr": "historical", "cuba": "historical"}
    s = Session.new(sc, GameSetup("cuba-1962", seed, seats))
    play_moves(s, "usa", parse_moves(yaml.safe_load(moves), sc, "usa"))
    return s


FIVE = """\
- follow: 1962-10-18
- choose: usa_raise_readiness
- choose: usa_announce_quarantine
- choose: usa_wait
- choose: usa_wait
- choose: usa_wait
- follow: end
"""
STRIKE = "- follow: 1962-10-21\n- choose: usa_air_strike\n- follow: end\n"
# the quarantine a day early
QUARANTINE = "- follow: 1962-10-21\n- choose: usa_announce_quarantine\n- follow: end\n"


@pytest.fixture
def pooled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(debrief, "POOL_FROM", 0)  # a pool even for these small runs


@pytest.mark.parametrize("moves", [FIVE, STRIKE, QUARANTINE], ids=["five", "strike", "quarantine"])
@pytest.mark.parametrize("workers", [1, 2])
def test_the_debrief_gives_the_odds_of_the_plain_computation(
    cuba: Scenario, moves: str, workers: int, pooled: None
) -> None:
    session = cuba_game(cuba, moves)
    fast = build(session, runs=300, seed=3, workers=workers)
    assert fast.decisions  # each game has a decision to weigh
    assert to_json(fast) == to_json(plain(session, 300, seed=3))


def test_the_number_of_processes_comes_from_the_environment(
    cuba: Scenario, monkeypatch: pytest.MonkeyPatch, pooled: None
) -> None:
    session = cuba_game(cuba, STRIKE)
    monkeypatch.setenv(debrief.WORKERS_VARIABLE, "2")
    assert debrief.debrief_workers() == 2
    two = build(session, runs=200)
    monkeypatch.setenv(debrief.WORKERS_VARIABLE, "1")
    assert debrief.debrief_workers() == 1
    assert to_json(build(session, runs=200)) == to_json(two)
    monkeypatch.setenv(debrief.WORKERS_VARIABLE, "many")
    with pytest.raises(ValueError, match="whole number"):
        debrief.debrief_workers()


def test_a_deviating_game_of_the_toy_scenario_gives_the_plain_odds(mini: Scenario) -> None:
    s = Session.new(
        mini, GameSetup(str(MINI), 0, {"blue": "human", "red": "historical"}, "history")
    )
    while not s.done:
        choice = follow_choice(s, "blue")
        if s.turn in (0, 2, 4):
            choice = "blue_wait"
        s.play_turn({"blue": choice}, [])
    for stand_in in ("historical", "random", "hawk"):
        assert to_json(build(s, runs=300, stand_in=stand_in, workers=1)) == to_json(
            plain(s, 300, stand_in)
        )


def ended(context: _Context, state: Any, job: _Job) -> np.ndarray:
    """How each crisis of a debrief's simulation ended, in crisis-id order: its outcome,
    its last turn, its peak escalation and every actor's payoff."""
    r = run_onward(context.scenario, state, context.seats(job), context.runs, seed=context.seed)
    fields = [r.outcome, r.end_turn, r.peak_escalation, *r.payoffs]
    return np.stack([np.asarray(f, dtype=float) for f in fields])[
        :, np.argsort(r.crisis_ids, kind="stable")
    ]


@pytest.mark.parametrize("moves", [FIVE, STRIKE], ids=["five", "strike"])
def test_a_choice_the_stand_in_makes_for_certain_changes_no_crisis(
    cuba: Scenario, moves: str
) -> None:
    """Where :func:`_certain_choice` finds the stand-in certain of a choice, forcing that
    choice gives the same outcome in every crisis, so the debrief need not simulate it."""
    session = cuba_game(cuba, moves)
    context = _Context(cuba, dict(session.agents), ("usa",), "historical", 150, 5)
    chosen = [t.turn for t in session.traces if "usa" not in session.followed(t.turn)]
    followed = [t.turn for t in session.traces if t.turn not in chosen]
    turns = chosen + followed[:: max(1, len(followed) // 4)]
    found = 0
    for turn in turns:
        state = session.before[turn]
        certain = _certain_choice(context, state, "usa")
        unforced = ended(context, state, _Job(turn))
        legal = np.flatnonzero(session.engine.observe(state, "usa").legal[0])
        if certain is not None:
            found += 1
            assert certain in legal
            assert np.array_equal(ended(context, state, _Job(turn, "usa", certain)), unforced)
    assert found  # some turns were certain ones


def test_where_the_stand_in_is_unsure_no_choice_is_certain(cuba: Scenario) -> None:
    """Off the record the fitted leader is never quite certain (its least likely options
    keep a small chance): no choice is taken as certain there, and where it is unsure
    forcing even its likeliest choice changes crises."""
    session = cuba_game(cuba, FIVE)
    context = _Context(cuba, dict(session.agents), ("usa",), "historical", 150, 5)
    unsure = []
    for trace in session.traces:
        state = session.before[trace.turn]
        stand_in: Any = make_agent("historical", cuba, "usa")
        p = np.asarray(stand_in.policy(session.engine.observe(state, "usa")))[0]
        if p.max() < 0.9:
            unsure.append((trace.turn, int(np.argmax(p))))
    assert unsure
    for turn, likeliest in unsure[:2]:
        state = session.before[turn]
        assert _certain_choice(context, state, "usa") is None
        forced = ended(context, state, _Job(turn, "usa", likeliest))
        assert not np.array_equal(forced, ended(context, state, _Job(turn)))


def test_a_line_up_that_cannot_travel_runs_in_this_process(cuba: Scenario) -> None:
    session = cuba_game(cuba, STRIKE)
    context = _Context(cuba, dict(session.agents), ("usa",), "historical", 200, 0)
    assert debrief._shippable(context)

    class Here:  # a class local to a function does not pickle
        stochastic = False

        def act(self, obs: Any) -> np.ndarray:
            return np.zeros(obs.n, dtype=np.int64)

    unpicklable = {**session.agents, "ussr": cast(Agent, Here())}
    assert not debrief._shippable(_Context(cuba, unpicklable, ("usa",), "historical", 200, 0))


def test_no_choice_is_certain_for_a_stand_in_that_draws_its_own_chance(cuba: Scenario) -> None:
    session = cuba_game(cuba, STRIKE)
    context = _Context(cuba, dict(session.agents), ("usa",), "random", 200, 0)
    assert all(_certain_choice(context, s, "usa") is None for s in session.before.values())
