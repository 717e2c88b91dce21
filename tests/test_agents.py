"""The agent library: one contract for every registered agent, then each doctrine's own
short expected sequence on cuba-1962 (STYLE 9)."""

from __future__ import annotations

import datetime as dt
import pickle
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crisislab.agents.registry import AGENTS, AgentSpecError, make_agent, parse_seats
from crisislab.engine.engine import Engine
from crisislab.runner import run_batch, start_batch
from crisislab.scenario.expr import evaluate
from crisislab.scenario.loader import load_scenario
from crisislab.scenario.model import Scenario

MINI = Path(__file__).parent / "data" / "mini.yaml"
# slow by design: options that keep it to a fraction of a second per decision
SMALL = {
    "expected_utility": "expected_utility:rollouts=2,horizon=3",
    # a trained policy: a stand-in that reads the environments' observation
    "policy": f"policy:{Path(__file__).parent / 'data' / 'policy_first_legal.py'}:act",
}


def spec(name: str) -> str:
    return SMALL.get(name, name)


@pytest.fixture(scope="module", autouse=True)
def model_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The llm agent keeps the contract too, against the recorded endpoint."""
    from crisislab.agents.llm import llm_session
    from crisislab.llm_store import StoredReplies

    from .llm_server import serve

    replies = tmp_path_factory.mktemp("llm") / "replies.db"
    with serve() as endpoint, llm_session("use", StoredReplies(f"sqlite:///{replies}")):
        SMALL["llm"] = f"llm:cautious-7b,base_url={endpoint.url}"
        yield
        del SMALL["llm"]


@pytest.fixture(scope="module")
def mini() -> Scenario:
    return load_scenario(MINI)


@pytest.fixture(scope="module")
def cuba() -> Scenario:
    return load_scenario("cuba-1962")


def seats(sc: Scenario, name: str) -> dict:
    return {a: make_agent(spec(name), sc, a) for a in sc.players if sc.role(a) == "player"}


# ---- the contract every registered agent keeps ---------------------------------------


@pytest.mark.parametrize("name", sorted(AGENTS))
def test_same_seed_same_result(mini: Scenario, name: str) -> None:
    a = run_batch(mini, seats(mini, name), 60, seed=5)
    b = run_batch(mini, seats(mini, name), 60, seed=5)
    assert np.array_equal(a.outcome, b.outcome)
    assert np.array_equal(a.end_turn, b.end_turn)
    assert np.array_equal(a.payoffs, b.payoffs)


@pytest.mark.parametrize("name", sorted(AGENTS))
def test_crisis_alone_equals_crisis_in_batch(mini: Scenario, name: str) -> None:
    batch = run_batch(mini, seats(mini, name), 40, seed=9)
    for i in (0, 17, 39):
        alone = run_batch(mini, seats(mini, name), 1, seed=9, crisis_ids=np.array([i]))
        assert alone.outcome[0] == batch.outcome[i]
        assert alone.end_turn[0] == batch.end_turn[i]
        assert np.array_equal(alone.payoffs[:, 0], batch.payoffs[:, i])


@pytest.mark.parametrize("name", sorted(AGENTS))
def test_only_legal_actions_on_cuba(cuba: Scenario, name: str) -> None:
    """Every choice over a run of the crisis phase is legal where the crisis runs (the
    engine refuses an illegal choice, so finishing the batch proves it too)."""
    engine = Engine(cuba)
    agents = seats(cuba, name)
    state = start_batch(engine, 30, seed=3, start_turn=cuba.clock.first_of_phase("crisis"))
    turns = 0
    while not state.done.all() and turns < (6 if name == "expected_utility" else 200):
        choices = {}
        for actor in engine.players:
            obs = engine.observe(state, actor)
            agent = agents.get(actor) or make_agent("scripted", cuba, actor)
            pick = np.asarray(agent.act(obs))
            assert pick.shape == (state.n,) and pick.dtype.kind == "i"
            live = ~state.done
            assert obs.legal[np.flatnonzero(live), pick[live]].all()
            choices[actor] = pick
        engine.step(state, choices)
        turns += 1


@pytest.mark.parametrize("name", sorted(AGENTS))
def test_pickles_and_acts_the_same(mini: Scenario, name: str) -> None:
    engine = Engine(mini)
    state = start_batch(engine, 50, seed=1)
    engine.step(state, {a: np.zeros(50, dtype=np.int64) for a in engine.players})
    for actor in ("red", "blue"):
        agent = make_agent(spec(name), mini, actor)
        copy = pickle.loads(pickle.dumps(agent))
        assert np.array_equal(
            agent.act(engine.observe(state, actor)), copy.act(engine.observe(state, actor))
        )


@pytest.mark.parametrize("name", sorted(AGENTS))
def test_acts_on_a_large_batch_at_once(mini: Scenario, name: str) -> None:
    """A vectorised agent answers 200,000 crises in one call (a per-crisis Python loop
    would not return in the test's lifetime)."""
    engine = Engine(mini)
    state = start_batch(engine, 200_000, seed=2)
    obs = engine.observe(state, "blue")
    pick = make_agent(spec(name), mini, "blue").act(obs)
    assert pick.shape == (200_000,)
    assert obs.legal[np.arange(200_000), pick].all()


@pytest.mark.parametrize("name", sorted(AGENTS))
def test_metadata(name: str, cuba: Scenario) -> None:
    agent = make_agent(spec(name), cuba, "usa")
    assert isinstance(type(agent).stochastic, bool)
    assert isinstance(type(agent).needs_model_server, bool)
    assert type(agent).__doc__ and len(type(agent).__doc__.split()) > 8


# ---- each doctrine's own expected sequence -----------------------------------------------


def at(cuba: Scenario, date: str, half: str = "am", n: int = 1):
    engine = Engine(cuba)
    turn = cuba.clock.turn_of(dt.date.fromisoformat(date), half)
    return engine, start_batch(engine, n, seed=0, start_turn=turn)


def sequence(
    cuba: Scenario, actor: str, agent_spec: str, date: str, turns: int, half: str = "am"
) -> list[str]:
    """The actor's choices over ``turns`` turns from ``date``, others following the
    record (chance as it happened)."""
    engine = Engine(cuba, chance="history")
    state = start_batch(
        engine, 1, seed=0, start_turn=cuba.clock.turn_of(dt.date.fromisoformat(date), half)
    )
    me = make_agent(agent_spec, cuba, actor)
    others = {
        a: make_agent("historical", cuba, a)
        if cuba.role(a) == "player"
        else make_agent("scripted", cuba, a)
        for a in engine.players
        if a != actor
    }
    out = []
    for _ in range(turns):
        choices = {a: ag.act(engine.observe(state, a)) for a, ag in others.items()}
        choices[actor] = me.act(engine.observe(state, actor))
        out.append(cuba.actions_of(actor)[int(choices[actor][0])].id)
        engine.step(state, choices)
    return out


def test_hawk_convenes_then_strikes(cuba: Scenario) -> None:
    assert sequence(cuba, "usa", "hawk", "1962-10-16", 2) == [
        "usa_convene_excomm",
        "usa_air_strike",
    ]


def test_hawk_ceiling_holds_it_below_the_strike(cuba: Scenario) -> None:
    # below the strike rung: readiness up to DEFCON 2 (DEFCON 1, a war footing, stands on
    # the strike's rung), then the most escalatory option left, massing forces
    assert sequence(cuba, "usa", "hawk:ceiling=5", "1962-10-16", 3) == [
        "usa_raise_readiness",
        "usa_raise_readiness",
        "usa_mass_invasion_forces",
    ]


def test_dove_accepts_and_withdraws(cuba: Scenario) -> None:
    assert sequence(cuba, "ussr", "dove", "1962-10-23", 1) == ["ussr_public_acceptance"]


def test_dove_never_climbs(cuba: Scenario) -> None:
    seq = sequence(cuba, "usa", "dove", "1962-10-16", 6)
    assert all(cuba.action(a).escalation == 0 for a in seq)


def test_organizational_runs_its_programme(cuba: Scenario) -> None:
    seq = sequence(cuba, "usa", "organizational", "1962-10-16", 2)
    assert seq == ["usa_convene_excomm", "usa_announce_quarantine"]


def test_political_weight_moves_the_choice(cuba: Scenario) -> None:
    dovish = sequence(cuba, "usa", "political:hawk_weight=0", "1962-10-16", 3)
    hawkish = sequence(cuba, "usa", "political:hawk_weight=1", "1962-10-16", 3)
    assert max(cuba.action(a).escalation for a in hawkish) > max(
        cuba.action(a).escalation for a in dovish
    )


def test_rational_deploys_and_avoids_the_strike(cuba: Scenario) -> None:
    assert sequence(cuba, "ussr", "rational", "1962-05-24", 1) == ["ussr_decide_deploy"]
    assert "usa_air_strike" not in sequence(cuba, "usa", "rational", "1962-10-16", 4)


def test_risk_aversion_is_an_option_that_matters(cuba: Scenario) -> None:
    bold = sequence(cuba, "usa", "rational:risk_aversion=0", "1962-10-23", 4)
    timid = sequence(cuba, "usa", "rational:risk_aversion=5", "1962-10-23", 4)
    assert bold != timid
    assert all(cuba.action(a).escalation == 0 for a in timid)


def test_historical_plays_the_record_then_its_fallback(cuba: Scenario) -> None:
    seq = sequence(cuba, "usa", "historical", "1962-10-22", 3)
    assert seq == ["usa_wait", "usa_announce_quarantine", "usa_low_level_recon"]
    # 23 October pm: the record is silent for Washington, and on the path it waits
    assert sequence(cuba, "usa", "historical", "1962-10-23", 1, half="pm") == ["usa_wait"]
    # off the path (here: a crisis where the ExComm never sat), the fallback decides
    engine, state = at(cuba, "1962-10-23", "pm", n=4)
    state.values[engine.var_index["excomm_convened"], :2] = 0
    obs = engine.observe(state, "usa")
    agent = make_agent("historical:fallback=hawk", cuba, "usa")
    hawk = make_agent("hawk", cuba, "usa").act(obs)
    pick = agent.act(obs)
    assert np.array_equal(pick[:2], hawk[:2]) and hawk[0] != cuba.action("usa_wait").local
    assert (pick[2:] == cuba.action("usa_wait").local).all()


def test_forced_actions_win(cuba: Scenario) -> None:
    from crisislab import whatifs

    sc = whatifs.apply(cuba, ["air_strike"])
    # on 16 October pm the ExComm sits (the record), so the forced strike is legal
    for name in ("dove", "rational", "organizational", "political", "historical"):
        assert sequence(sc, "usa", name, "1962-10-16", 1, half="pm") == ["usa_air_strike"]


def test_expected_utility_is_reproducible_and_seeded(cuba: Scenario) -> None:
    engine, state = at(cuba, "1962-10-27", "pm", n=3)
    obs = engine.observe(state, "usa")
    a = make_agent("expected_utility:rollouts=3,horizon=4", cuba, "usa").act(obs)
    b = make_agent("expected_utility:rollouts=3,horizon=4", cuba, "usa").act(obs)
    assert np.array_equal(a, b)
    assert len(set(a.tolist())) == 1  # the same position, the same choice
    assert obs.legal[np.arange(3), a].all()


def test_an_unfinished_look_ahead_is_worth_where_it_stands(cuba: Scenario) -> None:
    # on 27 October, a crisis cut before it ends: for Washington a withdrawal agreed is
    # worth more than none, and both more than living with the missiles (what scoring
    # it as if the clock ended there gave); a war under way counts as its outcome
    engine, state = at(cuba, "1962-10-27", "pm", n=3)
    var = engine.var_index
    state.values[var["withdrawal_agreed"], 1] = 1
    state.values[var["war_level"], 2] = 4
    eu = make_agent("expected_utility:rollouts=1,horizon=1", cuba, "usa")
    value = eu._cut_value(engine, state)
    env = engine.env(state)
    fait = float(np.asarray(evaluate(cuba.outcome("fait_accompli").payoffs["usa"], env)).ravel()[0])
    assert value[1] > value[0] > fait
    assert value[2] == pytest.approx(cuba.parameters["u_tactical_war"])
    # Moscow, whose payoffs rank a withdrawal the other way round
    seen = make_agent("expected_utility:rollouts=1,horizon=1", cuba, "ussr")._cut_value(
        engine, state
    )
    assert seen[1] < seen[0]


def test_the_expected_utility_planner_does_not_accept_the_missiles_on_discovery(
    cuba: Scenario,
) -> None:
    # the morning after the photographs: living with the missiles is an option, and a
    # planner that scored unfinished crises as if they ended there took it at once
    choices = sequence(cuba, "usa", "expected_utility:rollouts=4,horizon=6", "1962-10-16", 2)
    assert "usa_accept_missiles" not in choices


# ---- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad, words",
    [
        ("hawk:nosuch=1", "no option 'nosuch'"),
        ("hawk:ceiling=high", "takes a number"),
        ("political:hawk_weight=2", "between 0 and 1"),
        ("dove:prefer=usa_fly", "not an action of this actor"),
        ("historical:fallback=random", "draws chance"),
        ("historical:fallback=nosuch", "unknown agent"),
        ("expected_utility:rollouts=1000", "from 1 to 64"),
        ("expected_utility:colour=red", "no option"),
    ],
)
def test_bad_agent_options_say_what_to_fix(cuba: Scenario, bad: str, words: str) -> None:
    with pytest.raises(AgentSpecError, match=words):
        make_agent(bad, cuba, "usa")


def test_seats_from_the_command_line(cuba: Scenario) -> None:
    agents = parse_seats(["usa=hawk", "ussr=historical", "cuba=dove:limit=1"], cuba)
    assert [type(a).name for a in agents.values()] == ["hawk", "historical", "dove"]


# ---- fast paths agree with the plain computation -------------------------------------

KEYED = [
    "hawk",
    "dove",
    "political",
    "organizational",
    "political:hawk_weight=0.3",
    "hawk:prefer={own}",
]
# an action of each actor for the prefer= option (it moves that action to the top)
PREFERRED = {"usa": "usa_convene_excomm", "ussr": "ussr_private_letter", "cuba": "cuba_consent"}


def _varied_states(cuba: Scenario, seed: int, turns: int = 70):
    """Observations of many different crises: 400 crises played by random agents from
    shortly before the crisis phase, every few turns."""
    engine = Engine(cuba)
    state = start_batch(engine, 400, seed=seed, start_turn=cuba.clock.first_of_phase("crisis") - 8)
    rand = {
        a: make_agent("random", cuba, a)
        if cuba.role(a) == "player"
        else make_agent("scripted", cuba, a)
        for a in engine.players
    }
    for turn in range(turns):
        if state.done.all():
            break
        if turn % 5 == 4:
            yield engine, state
        engine.step(state, {a: ag.act(engine.observe(state, a)) for a, ag in rand.items()})


@pytest.mark.parametrize("name", KEYED)
@pytest.mark.parametrize("seed", [1, 2])
def test_choosing_once_per_key_equals_choosing_row_by_row(
    cuba: Scenario, name: str, seed: int
) -> None:
    """Doctrines that choose once per distinct situation (``key``) pick exactly what the
    row-by-row computation picks, in crises as varied as random play makes them."""
    doctrines = {a: make_agent(name.format(own=own), cuba, a) for a, own in PREFERRED.items()}
    checked = 0
    for engine, state in _varied_states(cuba, seed):
        for actor, doctrine in doctrines.items():
            obs = engine.observe(state, actor)
            keys = doctrine.key(obs)
            assert keys is not None  # the fast path is the one under test
            assert np.array_equal(doctrine.act(obs), doctrine.choose(obs))
            checked += len(np.unique(keys))
    assert checked > 50  # many distinct situations were compared, not one


@pytest.mark.parametrize("seed", [3, 4])
def test_path_check_equals_comparing_every_variable(
    cuba: Scenario, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The historical agent's narrowing check finds exactly the rows whose whole
    observation equals the record's, as comparing every variable in every row does."""
    from crisislab.agents import factories
    from crisislab.agents.factories import RecordAgent

    monkeypatch.setattr(factories, "NARROW_FROM", 0)  # narrow even in this small batch

    agents = {a: make_agent("historical", cuba, a) for a in ("usa", "ussr", "cuba")}
    # chance as it happened, with some crises pushed off the record by changed variables
    engine = Engine(cuba, chance="history")
    state = start_batch(engine, 200, seed=seed, start_turn=cuba.clock.first_of_phase("crisis") - 6)
    rng = np.random.default_rng(seed)
    # an early discovery: Washington sees the missiles where the record has them hidden
    state.values[engine.var_index["missiles_detected"], :20] = 1  # (it sees that too)
    found = {True: 0, False: 0}
    for _ in range(40):
        if state.done.all():
            break
        push = rng.random(state.n) < 0.05
        var = rng.integers(len(cuba.variables))
        v = cuba.variables[var]
        state.values[var, push] = np.clip(state.values[var, push] + 1, v.low, v.high)
        choices = {}
        for actor in engine.players:
            obs = engine.observe(state, actor)
            agent = agents.get(actor)
            if isinstance(agent, RecordAgent) and obs.turn in agent.reference:
                ref = agent.reference[obs.turn]
                names, seen = obs.matrix
                expected = np.array([ref[k] for k in names])[:, None]
                same = ((seen == expected) | (np.isnan(seen) & np.isnan(expected))).all(axis=0)
                on = np.zeros(state.n, dtype=bool)
                on[agent._on_path(obs, ref)] = True
                assert np.array_equal(on, same)
                found[True] += int(same.sum())
                found[False] += int((~same).sum())
            choices[actor] = (agent or make_agent("scripted", cuba, actor)).act(obs)
        engine.step(state, choices)
    assert found[True] > 0 and found[False] > 0


@settings(max_examples=300, deadline=None)
@given(
    k=st.integers(1, 140),
    n=st.integers(1, 40),
    seed=st.integers(0, 2**32 - 1),
    density=st.floats(0.0, 1.0),
)
def test_the_random_agents_pick_is_the_rank_th_legal_option(
    k: int, n: int, seed: int, density: float
) -> None:
    """The random agent's pick is the floor(u * count)-th legal option of the row (option
    0 where none is legal), as it was computed before its running count became small
    integers; up to 140 options, past int8's range."""
    from crisislab.agents.historical import uniform_pick

    rng = np.random.default_rng(seed)
    legal = rng.random((n, k)) < density
    u = rng.random(n)
    counts = legal.sum(axis=1)
    target = np.floor(u * np.maximum(counts, 1)).astype(np.int64)
    ranks = np.cumsum(legal, axis=1) - 1
    expected = np.argmax(legal & (ranks == target[:, None]), axis=1)
    np.testing.assert_array_equal(uniform_pick(legal, u), expected)
