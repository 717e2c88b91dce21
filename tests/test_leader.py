"""The leaders' choice model: its rules, its exactness under lumping, its fit to the
record, deals judged by value, and odds that do not depend on the length of a turn."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crisislab.agents.factories import leader
from crisislab.agents.historical import HistoricalAgent
from crisislab.agents.leader import (
    FEATURES,
    LeaderAgent,
    LeaderModel,
    coefficients,
    judge_deal,
    parameter_name,
    probabilities,
)
from crisislab.agents.registry import AgentSpecError, make_agent
from crisislab.engine.engine import Engine
from crisislab.engine.loop import lumpable, play_out
from crisislab.engine.state import BatchState
from crisislab.engine.streams import CrisisStreams
from crisislab.fit import fit, record_decisions
from crisislab.runner import complete_agents, result_of, run_batch, start_batch
from crisislab.scenario.expr import BoolOp, Compare, Const, Name, Unary
from crisislab.scenario.loader import load_scenario, load_text
from crisislab.scenario.model import EventRule


@pytest.fixture(scope="module")
def cuba():
    return load_scenario("cuba-1962")


def lineup(sc):
    return {a: make_agent("historical", sc, a) for a in sc.players if sc.role(a) == "player"}


def record_state(sc, label):
    """The replayed record at the start of the turn labelled ``label``."""
    engine = Engine(sc, chance="history")
    state = engine.start(1, seed=0)
    agents = {a: HistoricalAgent(sc, a) for a in engine.players}
    while sc.clock.turns[state.turn].label != label:
        engine.step(state, {a: agents[a].act(engine.observe(state, a)) for a in engine.players})
    return engine, state


# ---- the choice rule ------------------------------------------------------------------


def test_probabilities_are_a_distribution_over_legal_options(cuba):
    engine, state = record_state(cuba, "1962-10-24 pm")
    for actor in ("usa", "ussr", "cuba"):
        obs = engine.observe(state, actor)
        p = LeaderAgent(cuba, actor).policy(obs)
        assert p.shape == (1, len(obs.actions))
        assert math.isclose(p.sum(), 1.0)
        assert np.all(p[~obs.legal] == 0)
        assert np.all(p[obs.legal] > 0)


def test_a_longer_turn_makes_acting_likelier_in_proportion(cuba):
    """The per-day propensity: waiting's odds against any option fall with the turn's
    length (the log(turn days) offset)."""
    model = LeaderModel(cuba, "usa")
    engine, state = record_state(cuba, "1962-10-24 pm")
    obs = engine.observe(state, "usa")
    f = model.features(obs, np.array([0]))
    beta = np.array([coefficients(cuba, "usa")[k] for k in FEATURES])
    p = probabilities(f, beta)[0]
    # offset for a week instead of half a day: log(7) - log(0.5) = log(14) on every option
    # but waiting
    acting = model.waiting.astype(bool)
    week = type(f)(f.x, np.where(acting, f.offset + np.log(14.0), 0.0), f.near, f.legal)
    q = probabilities(week, beta)[0]
    wait = cuba.default_action("usa").local
    assert q[wait] < p[wait]
    ratio_p = p[acting & f.legal[0]] / p[wait]
    ratio_q = q[acting & f.legal[0]] / q[wait]
    assert np.allclose(ratio_q / ratio_p, 14.0)


def test_presets_and_options_are_settings_of_the_one_model(cuba):
    hawk = LeaderAgent(cuba, "usa", preset="hawk")
    dove = LeaderAgent(cuba, "usa", preset="dove")
    assert hawk.coef["escalation"] > dove.coef["escalation"]
    engine, state = record_state(cuba, "1962-10-27 pm")
    obs = engine.observe(state, "usa")
    strike = obs.actions.index("usa_air_strike")
    assert hawk.policy(obs)[0, strike] > dove.policy(obs)[0, strike]
    with pytest.raises(AgentSpecError, match="no preset"):
        LeaderAgent(cuba, "usa", preset="owl")
    with pytest.raises(AgentSpecError, match="no option"):
        make_agent("leader:wisdom=3", cuba, "usa")


# ---- exact under lumping --------------------------------------------------------------


def run(sc, n, lumped, seed=7, ids=None):
    engine = Engine(sc)
    seated = complete_agents(sc, lineup(sc))
    state = start_batch(engine, n, seed, crisis_ids=ids, lumped=lumped)
    play_out(engine, state, seated)
    return result_of(sc, state, seed)


def test_lumped_equals_unlumped_crisis_by_crisis(cuba):
    assert lumpable(complete_agents(cuba, lineup(cuba)))
    a, b = run(cuba, 300, True), run(cuba, 300, False)
    assert np.array_equal(a.outcome, b.outcome)
    assert np.array_equal(a.end_turn, b.end_turn)
    assert np.allclose(a.payoffs, b.payoffs)


def test_a_crisis_alone_equals_itself_in_a_batch(cuba):
    batch = run(cuba, 120, True)
    for i in (3, 57, 119):
        alone = run(cuba, 1, False, ids=np.array([i]))
        assert alone.outcome[0] == batch.outcome[i]
        assert alone.end_turn[0] == batch.end_turn[i]


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 6), st.integers(1, 40), st.integers(0, 2**32 - 1), st.data())
def test_choice_split_gives_each_crisis_its_own_draw(cuba, k, n, seed, data):
    """However a lumped batch's rows are split by choices, each crisis gets the option
    its own uniform picks, as it would alone."""
    sc = cuba
    engine = Engine(sc)
    streams = CrisisStreams(seed, np.arange(n, dtype=np.int64))
    single = BatchState.initial(sc, streams.subset(np.array([0])))
    lumped = single.lump(streams)
    raw = np.array(data.draw(st.lists(st.floats(0, 1), min_size=k, max_size=k)))
    if raw.sum() == 0:
        raw[0] = 1.0
    p = raw / raw.sum()
    choice, parents = engine.draw_choices(lumped, "usa", p[None, :].repeat(lumped.n, 0))
    per_crisis = choice[lumped.row_of]
    alone, _ = engine.draw_choices(single.tiled(streams), "usa", np.tile(p, (n, 1)))
    assert np.array_equal(per_crisis, alone)
    assert lumped.sizes.sum() == n
    assert np.all(p[per_crisis] > 0)


# ---- fitted to the record -------------------------------------------------------------


@pytest.fixture(scope="module")
def fitted(cuba):
    return fit(cuba, leave_one_out=False)


def test_fit_beats_blind_choice_at_the_record_s_rate_and_gives_every_choice_a_chance(fitted):
    from scipy.stats import chi2

    assert np.isfinite(fitted.log_likelihood)
    assert fitted.log_likelihood > fitted.baseline["uniform"] + 100
    assert all(d["p"] > 1e-4 for d in fitted.decisions)
    # Leaders mostly wait, so a blind pick among all options is an easy bar. The real
    # one: a leader who acts as often as the record has it act but picks blindly. The
    # payoff, danger, escalation, force and concession terms must beat it by more than
    # chance (a likelihood-ratio test at 5%), and make the median documented choice
    # likelier than it does.
    extra = sum(
        1
        for n in fitted.parameters
        if not n.endswith("_act") and fitted.at_bound.get(n) != "not identified"
    )
    gain = 2 * (fitted.log_likelihood - fitted.baseline["base_rate"])
    assert gain > chi2.ppf(0.95, extra)
    lift = [d["p"] / d["p_base_rate"] for d in fitted.decisions]
    assert np.median(lift) > 1
    assert fitted.baseline["documented"] == len(fitted.decisions) >= 38


def test_fit_stays_in_the_declared_ranges(cuba, fitted):
    spec = {p.id: p for p in cuba.spec.parameters}
    for name, value in fitted.parameters.items():
        lo, hi = spec[name].range
        assert lo - 1e-9 <= value <= hi + 1e-9
        assert fitted.low[name] <= value <= fitted.high[name]


def test_the_scenario_ships_its_fitted_coefficients(cuba, fitted):
    """The leader_* values in the file are what `crisislab fit` finds, so they cannot
    drift from the record they are fitted to."""
    for name, value in fitted.parameters.items():
        if fitted.at_bound.get(name) == "not identified":
            continue
        assert cuba.parameters[name] == pytest.approx(value, rel=5e-3, abs=5e-3), name


def test_fit_is_a_maximum(cuba, fitted):
    """Moving any free coefficient a little inside its range lowers the likelihood."""
    from crisislab.fit import _Problem

    problem = _Problem(cuba, record_decisions(cuba))
    beta = np.array([fitted.parameters[n] for n in problem.names])
    best = problem.value(beta)[0]
    for i, (lo, hi) in enumerate(problem.bounds):
        for step in (-0.05, 0.05):
            b = beta.copy()
            b[i] = min(max(b[i] + step, lo), hi)
            assert problem.value(b)[0] <= best + 1e-3  # the optimizer's tolerance


# ---- deals judged by value ------------------------------------------------------------


def verdict(sc, label, offered):
    engine, state = record_state(sc, label)
    obs = engine.observe(state, "ussr")
    acts = {a.id: a for a in sc.actions}
    model = LeaderModel(sc, "ussr")
    return judge_deal(model, obs, 0, [acts["ussr_public_acceptance"]], [acts[a] for a in offered])


def test_a_bare_demand_in_a_quiet_week_is_refused(cuba):
    assert not verdict(cuba, "1962-10-17 am", []).accept
    assert not verdict(cuba, "1962-10-23 pm", ["usa_accept_first_letter"]).accept


def test_the_record_bargain_becomes_acceptable_as_the_danger_rises(cuba):
    quiet = verdict(cuba, "1962-10-23 pm", ["usa_accept_first_letter_secret_jupiter"])
    late = verdict(cuba, "1962-10-27 pm", ["usa_accept_first_letter_secret_jupiter"])
    assert late.accept and not quiet.accept
    assert late.danger > quiet.danger
    # and an offer is worth more than none
    bare = verdict(cuba, "1962-10-26 pm", [])
    offer = verdict(cuba, "1962-10-26 pm", ["usa_accept_first_letter"])
    assert offer.deal > bare.deal
    assert offer.accept and not bare.accept


def test_a_clause_that_the_clock_or_a_choice_can_meet_counts_the_choice(cuba):
    """The fait accompli comes when Washington accepts the missiles or when the period
    ends with them in Cuba: what a choice can bring about is the acceptance, and it
    counts; the clock's part does not. A clause about timing alone is left out."""
    from crisislab.agents.doctrines import _clauses
    from crisislab.scenario.expr import names_in

    outcome = {o.id: o for o in cuba.outcomes}
    assert [names_in(c) for c in _clauses(outcome["fait_accompli"].when)] == [
        {"war_level"},
        {"usa_accepted_missiles"},
    ]
    assert [names_in(c) for c in _clauses(outcome["air_strike"].when)] == [{"war_level"}]
    final, agreed, day = Name("final"), Name("agreed"), Name("day")
    timer = Compare((">=",), (day, Const(3.0)))
    # `agreed and not final`: the period has not run out, so only `agreed` is left
    assert _clauses(BoolOp("and", (agreed, Unary("not", final)))) == [agreed]
    # `(agreed and timer) or final`: the choice alone does not meet it
    assert _clauses(BoolOp("or", (BoolOp("and", (agreed, timer)), final))) == []
    # `not (final or timer)` holds until the clock runs out: nothing to choose
    assert _clauses(Unary("not", BoolOp("or", (final, timer)))) == []
    assert _clauses(BoolOp("or", (agreed, Unary("not", agreed)))) == [
        BoolOp("or", (agreed, Unary("not", agreed)))
    ]


def test_the_worth_of_a_fait_accompli_moves_kennedy_s_readiness_to_accept_it(cuba):
    """The payoffs speak through the options that reach their outcomes: the less the
    missiles in Cuba cost the United States, the likelier the pure model accepts them."""
    p = []
    for worth in (-45.0, -25.0, -10.0):
        sc = cuba.with_parameters(u_usa_fait_accompli=worth)
        engine, state = record_state(sc, "1962-10-22 pm")
        agent = LeaderAgent(sc, "usa")
        obs = engine.observe(state, "usa")
        p.append(agent.policy(obs)[0, obs.actions.index("usa_accept_missiles")])
    assert p[0] < p[1] < p[2]
    assert p[2] > 5 * p[0]


# ---- time is continuous --------------------------------------------------------------


@given(st.floats(0, 5), st.floats(0.05, 7))
def test_a_rate_gives_the_same_odds_over_a_span_however_it_is_cut(rate, days):
    rule = EventRule(
        "e",
        0,
        "e",
        "e",
        "chance",
        None,
        None,
        False,
        (),
        None,
        False,  # type: ignore[arg-type]
        frozenset(),
        (),
        per_day=True,
    )
    whole = rule.probability(np.array(rate), days)
    halves = 1 - (1 - rule.probability(np.array(rate), days / 2)) ** 2
    assert float(whole) == pytest.approx(float(halves), abs=1e-12)


def test_halving_the_turn_length_leaves_the_odds_unchanged(cuba):
    """The first fortnight of October in half-day turns instead of days: same outcome
    odds within their intervals."""
    from importlib.resources import files

    raw = (files("crisislab") / "scenarios" / "cuba-1962.yaml").read_text("utf-8")
    marker = "      end: 1962-10-13\n      step: day\n"
    assert raw.count(marker) == 1
    halved = load_text(raw.replace(marker, "      end: 1962-10-13\n      step: half-day\n"))
    assert len(halved.clock) == len(cuba.clock) + 13
    n = 3000
    a = run_batch(cuba, lineup(cuba), n, seed=11)
    b = run_batch(halved, lineup(halved), n, seed=12)
    for o in range(len(cuba.outcomes)):
        pa, pb = np.mean(a.outcome == o), np.mean(b.outcome == o)
        se = math.sqrt(max(pa * (1 - pa) + pb * (1 - pb), 1e-4) / n)
        assert abs(pa - pb) < 4 * se, (cuba.outcomes[o].id, pa, pb)


def test_coefficient_names_are_per_actor_or_shared():
    assert parameter_name("act", "usa") == "leader_usa_act"
    assert parameter_name("payoff", "usa") == "leader_payoff"


# ---- the record's pull, on the crisis's own clock -------------------------------------


def test_the_engine_notes_when_documented_options_opened_and_how_often_they_were_taken(cuba):
    engine, state = record_state(cuba, "1962-10-17 am")
    docs = [a.id for a in cuba.documented_actions]
    i = docs.index("usa_convene_excomm")
    opened = cuba.clock.turns[
        cuba.clock.turn_of(__import__("datetime").date(1962, 10, 14), "pm")
    ].day
    # the option opened with the photographs, the turn after they were taken, and the
    # record has it taken once, on 16 October
    assert state.opened[i, 0] == opened
    assert state.taken[i, 0] == 1
    j = docs.index("usa_announce_quarantine")
    assert (
        state.opened[j, 0]
        == cuba.clock.turns[cuba.clock.turn_of(__import__("datetime").date(1962, 10, 16), "pm")].day
    )
    assert state.taken[j, 0] == 0
    obs = engine.observe(state, "usa")
    local = cuba.action("usa_announce_quarantine").local
    assert obs.opened[0, local] == state.opened[j, 0]
    # an actor reads only its own options' days
    assert np.isnan(engine.observe(state, "ussr").opened[0]).sum() >= 1


def _anchored(sc, actor):
    return leader(sc, actor, record=coefficients(sc, actor)["record"]).model


def test_on_the_record_each_documented_use_is_due_on_its_own_turn(cuba):
    """Along the record the crisis's clock and the calendar agree: every documented choice
    is due (gap 0) on the turn the leader made it."""
    engine = Engine(cuba, chance="history")
    state = engine.start(1, seed=0)
    agents = {a: HistoricalAgent(cuba, a) for a in engine.players}
    models = {a: _anchored(cuba, a) for a in ("usa", "ussr", "cuba")}
    documented = {(s.turn, s.actor): s.action for s in cuba.track if s.action is not None}
    checked = 0
    while not state.done.all():
        for actor, model in models.items():
            action = documented.get((state.turn, actor))
            if action is not None:
                obs = engine.observe(state, actor)
                near = model.nearness(obs, np.array([0]))
                assert near[0, cuba.action(action).local] == 0.0, (action, state.turn)
                checked += 1
        engine.step(state, {a: agents[a].act(engine.observe(state, a)) for a in engine.players})
    assert checked >= 38


def test_an_early_discovery_brings_the_response_forward(cuba):
    """Found on 5 October instead of 14, the missiles put the ExComm and the quarantine
    due nine days early; by the calendar they would still be weeks away."""
    import datetime as dt

    engine, state = record_state(cuba, "1962-10-05")
    var = cuba.variable("missiles_detected").index
    state.values[var, 0] = 1.0
    engine._note_opened(state)  # the engine notes it at the start of a turn
    model = _anchored(cuba, "usa")
    obs = engine.observe(state, "usa")
    local = cuba.action("usa_convene_excomm").local
    near = model.nearness(obs, np.array([0]))[0, local]
    assert near <= 1.5  # due within two days, as on 14-16 October
    calendar = LeaderModel(cuba, "usa").nearness(obs, np.array([0]))[0, local]
    assert calendar >= (dt.date(1962, 10, 16) - dt.date(1962, 10, 6)).days - 1


def test_an_overdue_use_stays_due_and_a_used_one_stops_pulling(cuba):
    engine, state = record_state(cuba, "1962-10-16 am")
    model = _anchored(cuba, "usa")
    local = cuba.action("usa_convene_excomm").local
    docs = [a.id for a in cuba.documented_actions]
    i = docs.index("usa_convene_excomm")
    state.opened[i, 0] -= 10.0  # opened ten days earlier: overdue, still due
    assert model.nearness(engine.observe(state, "usa"), np.array([0]))[0, local] == 0.0
    state.taken[i, 0] = 1.0  # taken as often as the record has it: no pull left
    assert model.nearness(engine.observe(state, "usa"), np.array([0]))[0, local] == np.inf


def test_waiting_is_pulled_by_what_the_documented_options_leave(cuba):
    engine, state = record_state(cuba, "1962-10-16 am")
    obs = engine.observe(state, "usa")
    agent = leader(cuba, "usa", record=8.0)
    f = agent.model.features(obs, np.array([0]))
    local = cuba.action("usa_convene_excomm").local
    assert f.near[0, local] == 0.0
    p_due = probabilities(f, agent.beta, 8.0, 2.0)[0]
    quiet = f.near.copy()
    quiet[:] = np.inf
    from dataclasses import replace

    p_quiet = probabilities(replace(f, near=quiet), agent.beta, 8.0, 2.0)[0]
    wait = f.wait
    # when something is due, waiting loses its pull; on a quiet day it has all of it
    assert p_due[local] > p_quiet[local]
    assert p_quiet[wait] > p_due[wait]


# ---- the record's concessions and their terms -------------------------------------------


def test_the_record_keeps_what_its_concessions_were_worth(cuba):
    """Khrushchev's public climb-down of 28 October came on the terms Kennedy's reply had
    just given (the assurance, the promise on the Jupiters): the replay keeps what they
    were worth to Moscow, and only concessions are kept."""
    from crisislab.agents.record import replayed_record

    worth = replayed_record(cuba).worth
    acceptance = worth["ussr"]["ussr_public_acceptance"]
    assert acceptance.shape == (1,)
    reply = cuba.parameters["u_ussr_assurance_gain"] + cuba.parameters["u_ussr_secret_trade_gain"]
    spread = cuba.parameters["u_ussr_fait_accompli"] - cuba.parameters["u_strategic_war"]
    # the deal beat carrying on by about what the reply added to it
    assert 0.3 * reply / spread < acceptance[0] < reply / spread
    assert "usa_announce_quarantine" not in worth["usa"]  # not a concession


def test_a_climb_down_on_worse_terms_is_pulled_less(cuba):
    """On 28 October without the reply's terms the climb-down falls short of the record's
    by what the terms were worth, and the record's pull on it weakens accordingly; on the
    record itself nothing is short."""
    engine, state = record_state(cuba, "1962-10-28 am")
    agent = make_agent("historical", cuba, "ussr").fallback
    local = cuba.action("ussr_public_acceptance").local
    obs = engine.observe(state, "ussr")
    f = agent.model.features(obs, np.array([0]))
    assert f.short is not None and f.short[0, local] == pytest.approx(0.0, abs=1e-9)
    state.values[cuba.variable("noninvasion_assurance").index, 0] = 0.0
    jupiters = cuba.variable("jupiter_deal")
    state.values[jupiters.index, 0] = float(jupiters.values.index("none"))
    bare = agent.model.features(engine.observe(state, "ussr"), np.array([0]))
    reply = cuba.parameters["u_ussr_assurance_gain"] + cuba.parameters["u_ussr_secret_trade_gain"]
    spread = cuba.parameters["u_ussr_fait_accompli"] - cuba.parameters["u_strategic_war"]
    assert bare.short[0, local] == pytest.approx(reply / spread, rel=0.05)
    full = probabilities(f, agent.beta, 8.0, 2.0, 0.1)[0, local]
    weaker = probabilities(bare, agent.beta, 8.0, 2.0, 0.1)[0, local]
    assert weaker < full
    # with no tolerance for worse terms the pull is all but gone
    assert probabilities(bare, agent.beta, 8.0, 2.0, 1e-6)[0, local] < weaker


def test_after_a_forbidden_documented_step_no_crisis_is_on_the_record(cuba):
    """Forbid Kennedy's reply of 27 October and the record cannot go on: the replay of the
    what-if stops counting as the record after that turn, so Moscow's climb-down of the
    next morning is the leader's own choice, not the record's."""
    from crisislab import whatifs
    from crisislab.agents.record import replayed_record

    sc = whatifs.apply(cuba, ["no_us_reply"])
    assert sc.history is cuba
    reply = next(s.turn for s in cuba.track if s.action == "usa_accept_first_letter_secret_jupiter")
    seen = replayed_record(sc).observed["ussr"]
    assert max(seen) == reply and reply + 1 not in seen
    assert max(replayed_record(cuba).observed["ussr"]) > reply + 1


def test_the_leader_is_handed_the_replayed_record_it_is_pulled_to(cuba):
    """``leader:record=8`` measures the pull on the replayed record, which the registry's
    builder hands the agent: the same model as one given the replay by hand. The agent
    itself replays nothing, so without the replay a pull of the record is refused."""
    from crisislab.agents.record import replayed_record

    built = make_agent("leader:record=8", cuba, "usa")
    by_hand = LeaderAgent(
        cuba,
        "usa",
        record=8.0,
        record_opened=replayed_record(cuba).opened,
        record_worth=replayed_record(cuba).worth["usa"],
    )
    assert isinstance(built, LeaderAgent) and built.model.record_lags is not None
    for a, b in zip(built.model.record_lags, by_hand.model.record_lags, strict=True):
        assert np.array_equal(a, b)
    assert any(lag.size for lag in built.model.record_lags)
    assert make_agent("leader", cuba, "usa").model.record_lags is None
    with pytest.raises(AgentSpecError, match="replayed record"):
        LeaderAgent(cuba, "usa", record=8.0)
